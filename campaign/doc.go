// Package campaign is the campaign security desk's pure core: the
// self-assessment and its PDF report, the matching of help requests to
// vetted firms, the lookalike-domain generator and the email-posture
// graders. It keeps no state and looks nothing up in DNS; the desk's
// tenants, events and isolation rules are in package vigil (campaign.go),
// its projections in package sqlite and its pages and API in package http.
//
// # Self-assessment
//
// Controls returns the controls of the project's campaign checklist
// (shared/data/campaign.md) as data, and Questions turns them into a guided
// questionnaire. Assess scores a campaign's answers exactly as the checklist
// says: each control scores 0, 1 or 2; weights are Critical 5, High 3,
// Medium 2, Low 1; the score is Σ(weight × points) / Σ(weight × 2); and a
// Critical control at 0 caps the rating at "At risk". The rating bands
// above that cap (Fair from 50%, Strong from 80%) are ours. Remediate lists
// the gaps, most critical first.
//
// WriteReport renders one saved assessment as a PDF (score, rating and
// the controls that cap it, the remediation plan, the answers with their
// evidence notes); the same assessment always gives the same bytes.
//
// # Matching
//
// Match proposes firms for a help request: approved, with free capacity,
// offering at least one requested area, and without a declared conflict of
// interest with the campaign (Conflicted). Firms covering more of the
// request come first.
//
// # Lookalike domains
//
// Lookalikes generates the domains an attacker could register to
// impersonate a campaign's: omission, insertion, transposition,
// replacement, ASCII and Unicode homoglyphs, hyphenation and other
// top-level domains. Output is deterministic and deduplicated, and every
// name is a valid hostname. Unicode (IDN) lookalikes are given in their
// Punycode "xn--" form, which is what registries, DNS and certificate
// transparency logs record; Lookalike.Unicode shows how a browser may
// display them. "vigil campaign domains DOMAIN" prints the list.
//
// # Email posture
//
// GradeSPF, GradeDKIM and GradeDMARC grade records the campaign pastes in
// and explain each finding (for example SPF +all, more than ten DNS
// lookups, DMARC p=none or no rua, a DKIM key shorter than 2048 bits).
// ParseSPF, ParseDKIM and ParseDMARC expose the parsed records.
package campaign

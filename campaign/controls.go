package campaign

import "github.com/vigil-elections/vigil"

// The controls of shared/data/campaign.md, transcribed in the document's
// order. IDs, groups, weights, evidence and sources are the document's; the
// text is the document's with its emphasis removed.
//
// campaign.md announces 38 controls but its seven tables hold 34 (A 9, B 5,
// C 5, D 3, E 5, F 2, G 5); 38 is the number of CISA's Cross-Sector
// Performance Goals it also cites. All 34 are here and none is invented.
var controls = []vigil.Control{
	// A. Accounts and authentication
	{ID: "ACC-01", Group: groupAccounts, Weight: vigil.WeightCritical,
		Text:     "MFA turned on for every account that supports it: email, cloud docs, social media, finance/fundraising, website CMS, domain registrar",
		Evidence: "admin-console MFA report, 100% enrolled", Sources: "D3P Top-5 #3; DDC core #1; CISA"},
	{ID: "ACC-02", Group: groupAccounts, Weight: vigil.WeightCritical,
		Text:     "Phishing-resistant MFA (FIDO security keys or passkeys) for candidate, senior staff, finance and IT admins; no SMS codes",
		Evidence: "keys issued per person; policy enforces keys", Sources: "D3P (use an app or key, \"not text messaging\"); DDC (free Google/Yubico keys; sample policy makes keys mandatory; passkeys)"},
	{ID: "ACC-03", Group: groupAccounts, Weight: vigil.WeightHigh,
		Text:     "High-risk users enrolled in Google Advanced Protection (Workspace) or Microsoft AccountGuard (O365), and staff personal accounts enrolled too",
		Evidence: "enrollment list", Sources: "DDC 5-steps #1; MS-AG"},
	{ID: "ACC-04", Group: groupAccounts, Weight: vigil.WeightHigh,
		Text:     "Long unique passwords or passphrases (\"SOMETHINGREALLYLONGLIKETHISSTRING\"); no reuse across accounts",
		Evidence: "policy plus password-manager breach report", Sources: "D3P Top-5 #4"},
	{ID: "ACC-05", Group: groupAccounts, Weight: vigil.WeightHigh,
		Text:     "Campaign-provided password manager, used for all work credentials, with shared vault items in place of passwords sent by email or chat",
		Evidence: "PM admin report", Sources: "D3P Top-5 #4; DDC sample policy; CISA CPG (unique credentials)"},
	{ID: "ACC-06", Group: groupAccounts, Weight: vigil.WeightMedium, HeadingLevel: true,
		Text:     "No shared logins. Each person has their own account; social-media access goes through delegated roles, not a shared password",
		Evidence: "account inventory", Sources: "D3P Step 3 [heading-level]; CISA CPG"},
	{ID: "ACC-07", Group: groupAccounts, Weight: vigil.WeightMedium, HeadingLevel: true,
		Text:     "Account inventory with owner, and least privilege (admin rights only for IT)",
		Evidence: "inventory doc, admin list", Sources: "D3P Step 3 [heading-level]; CISA CPG"},
	{ID: "ACC-08", Group: groupAccounts, Weight: vigil.WeightHigh, HeadingLevel: true,
		Text:     "On/off-boarding: access removed the day staff or volunteers leave; keys and devices collected",
		Evidence: "off-boarding checklist with dates", Sources: "D3P Steps 1 and 3 [heading-level]"},
	{ID: "ACC-09", Group: groupAccounts, Weight: vigil.WeightHigh,
		Text:     "Personal accounts of candidate, family and senior staff also protected (MFA/APP), since attackers go after personal accounts",
		Evidence: "attestation", Sources: "DDC sample policy; D3P \"Handouts for Staff & Family Members\""},

	// B. People and culture
	{ID: "PPL-01", Group: groupPeople, Weight: vigil.WeightHigh,
		Text:     "Leadership \"sets the tone\": candidate or manager owns security and it is on the agenda",
		Evidence: "named owner; kickoff briefing", Sources: "D3P Top-5 #1"},
	{ID: "PPL-02", Group: groupPeople, Weight: vigil.WeightMedium, HeadingLevel: true,
		Text:     "Named person responsible for security, and a designated address or person for reporting suspected phishing",
		Evidence: "contact published to staff", Sources: "D3P Step 1 [heading-level]; secondary tip lists"},
	{ID: "PPL-03", Group: groupPeople, Weight: vigil.WeightHigh,
		Text:     "Phishing and spear-phishing training at onboarding and refreshed; staff told they are targets",
		Evidence: "training log", Sources: "D3P Step 1; DDC sample policy; CISA 2024 checklist (updated phishing training)"},
	{ID: "PPL-04", Group: groupPeople, Weight: vigil.WeightMedium,
		Text:     "Phishing simulation exercise run (CISA offers free phishing assessments)",
		Evidence: "exercise report", Sources: "CISA services; secondary"},
	{ID: "PPL-05", Group: groupPeople, Weight: vigil.WeightMedium,
		Text:     "Written campaign cybersecurity policy that every staffer and volunteer acknowledges",
		Evidence: "signed acknowledgements", Sources: "DDC Sample Campaign Cybersecurity Policy"},

	// C. Communications and email
	{ID: "COM-01", Group: groupComms, Weight: vigil.WeightHigh,
		Text:     "Use a major commercial cloud office suite (Google Workspace / Microsoft 365) rather than self-hosted email or file servers",
		Evidence: "tenant exists", Sources: "D3P Top-5 #2"},
	{ID: "COM-02", Group: groupComms, Weight: vigil.WeightMedium, HeadingLevel: true,
		Text:     "End-to-end encrypted messaging (e.g. Signal) for sensitive talk, with disappearing messages where appropriate",
		Evidence: "policy", Sources: "DDC 5-steps #3; D3P Step 2 [heading-level]"},
	{ID: "COM-03", Group: groupComms, Weight: vigil.WeightLow, HeadingLevel: true,
		Text:     "\"Think before you write\": sensitive matters kept out of email, with retention and deletion rules",
		Evidence: "policy", Sources: "D3P Step 2 [heading-level]"},
	{ID: "COM-04", Group: groupComms, Weight: vigil.WeightHigh,
		Text:     "Email domain protected against spoofing: SPF, DKIM and DMARC at enforcement (p=quarantine/reject); monitoring, e.g. Valimail Monitor (free via DDC)",
		Evidence: "DNS records; DMARC report", Sources: "DDC core #3; DDC free tools; CISA 2024 checklist (DMARC)"},
	{ID: "COM-05", Group: groupComms, Weight: vigil.WeightMedium,
		Text:     "Workspace or M365 tenant hardened to the vendor's security baseline (e.g. \"Account Security Fundamentals\")",
		Evidence: "config review", Sources: "DDC free tools"},

	// D. Website and public presence
	{ID: "WEB-01", Group: groupWeb, Weight: vigil.WeightHigh,
		Text:     "Website behind DDoS protection / WAF (Cloudflare Project Galileo or Athenian Project, Google Project Shield)",
		Evidence: "DNS points to provider", Sources: "DDC core #2; DDC free tools"},
	{ID: "WEB-02", Group: groupWeb, Weight: vigil.WeightHigh,
		Text:     "Website CMS and registrar accounts under MFA, with registrar lock on the domain",
		Evidence: "screenshots", Sources: "DDC 5-steps #2; ACC-01"},
	{ID: "WEB-03", Group: groupWeb, Weight: vigil.WeightMedium, HeadingLevel: true,
		Text:     "Plan for impersonation, disinformation and social-media account takeover (monitoring, platform contacts)",
		Evidence: "plan doc", Sources: "D3P EU Step 7 [heading-level]; DDC threat #2"},

	// E. Devices
	{ID: "DEV-01", Group: groupDevices, Weight: vigil.WeightCritical, HeadingLevel: true,
		Text:     "Automatic OS and app updates on all laptops and phones; unsupported OS versions retired",
		Evidence: "MDM or patch report", Sources: "D3P Step 5 [heading-level]; secondary campaign tip lists; CISA CPG"},
	{ID: "DEV-02", Group: groupDevices, Weight: vigil.WeightHigh, HeadingLevel: true,
		Text:     "Full-disk encryption on laptops and phones (BitLocker/FileVault; phone passcode)",
		Evidence: "MDM report", Sources: "D3P Step 5 [heading-level]; secondary tip lists (\"encrypt computer and phone hard drives\")"},
	{ID: "DEV-03", Group: groupDevices, Weight: vigil.WeightHigh, HeadingLevel: true,
		Text:     "Screen lock/PIN and the ability to remote-wipe lost devices",
		Evidence: "MDM enrollment", Sources: "D3P Step 5 [heading-level]"},
	{ID: "DEV-04", Group: groupDevices, Weight: vigil.WeightMedium, HeadingLevel: true,
		Text:     "Campaign-issued devices for high-risk staff, or clear BYOD rules; software only from official app stores",
		Evidence: "inventory", Sources: "D3P Step 5 [heading-level]"},
	{ID: "DEV-05", Group: groupDevices, Weight: vigil.WeightLow,
		Text:     "Unknown USB drives not plugged in; laptops shut down (not asleep) when left unattended or travelling",
		Evidence: "policy", Sources: "secondary tip lists"},

	// F. Networks
	{ID: "NET-01", Group: groupNetworks, Weight: vigil.WeightMedium, HeadingLevel: true,
		Text:     "Office Wi-Fi on WPA2/WPA3 with a strong passphrase; router admin password changed from default; guest network kept separate",
		Evidence: "router config", Sources: "D3P Step 6 [heading-level]; CISA CPG (default passwords)"},
	{ID: "NET-02", Group: groupNetworks, Weight: vigil.WeightMedium, HeadingLevel: true,
		Text:     "VPN (or hotspot) used on public or hotel Wi-Fi",
		Evidence: "policy", Sources: "D3P Step 6 [heading-level]"},

	// G. Incident response and vendors
	{ID: "IR-01", Group: groupIncident, Weight: vigil.WeightCritical,
		Text:     "Written incident response plan: who to call for technical help, legal obligations, internal and external comms. It is tested",
		Evidence: "plan doc; tabletop date", Sources: "D3P Top-5 #5 and Step 4; DDC \"Is your campaign prepared for a cyber incident?\"; CISA 2024 (tested ransomware plan)"},
	{ID: "IR-02", Group: groupIncident, Weight: vigil.WeightHigh,
		Text:     "Contacts kept ready: FBI field office, CISA, platform security teams, and the vendor (AccountGuard direct line if enrolled)",
		Evidence: "contact sheet", Sources: "D3P Step 4; MS-AG"},
	{ID: "IR-03", Group: groupIncident, Weight: vigil.WeightHigh,
		Text:     "Backups of critical data (voter/donor lists, finance) kept offline or immutable, with restore tested",
		Evidence: "restore log", Sources: "CISA 2024 checklist"},
	{ID: "IR-04", Group: groupIncident, Weight: vigil.WeightMedium,
		Text:     "Third-party and vendor risk: consultants, digital firms and data vendors held to the same MFA and email rules; plan for a vendor outage or breach",
		Evidence: "vendor list with attestations", Sources: "DDC incident blog (vendor incidents); CISA CPG (supply chain)"},
	{ID: "IR-05", Group: groupIncident, Weight: vigil.WeightLow,
		Text:     "Free CISA Cyber Hygiene vulnerability scanning enrolled for public-facing IPs and domains",
		Evidence: "enrollment email", Sources: "CISA"},
}

const (
	groupAccounts = "Accounts and authentication"
	groupPeople   = "People and culture"
	groupComms    = "Communications and email"
	groupWeb      = "Website and public presence"
	groupDevices  = "Devices"
	groupNetworks = "Networks"
	groupIncident = "Incident response and vendors"
)

// Groups lists the seven groups of controls in the document's order.
func Groups() []string {
	return []string{groupAccounts, groupPeople, groupComms, groupWeb, groupDevices, groupNetworks, groupIncident}
}

// Controls returns the controls in the document's order. The slice is a
// copy; changing it changes nothing else.
func Controls() []vigil.Control {
	return append([]vigil.Control(nil), controls...)
}

// TopFive returns the controls behind the D3P playbook's Top-Five checklist,
// in its order: set the tone, use the cloud, two-factor with an app or key,
// strong passwords and a password manager, plan and prepare.
func TopFive() []vigil.ControlID {
	return []vigil.ControlID{"PPL-01", "COM-01", "ACC-01", "ACC-02", "ACC-04", "ACC-05", "IR-01"}
}

// Lookup returns the control with the given ID.
func Lookup(id vigil.ControlID) (vigil.Control, bool) {
	for _, c := range controls {
		if c.ID == id {
			return c, true
		}
	}
	return vigil.Control{}, false
}

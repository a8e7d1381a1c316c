// Package detect raises anomaly alerts from the event log: the "detect" of
// defend, detect and recover.
//
// Rules are data: a line-based file the security officer edits (see
// default.rules, the built-in set, for the syntax). Parse validates a file
// and names every bad line; a file with any error is refused whole, and a
// running Runner keeps the last good rules.
//
// The Engine is pure: it evaluates rules over a stream of vigil.Event in
// log order, using the events' own time, so the same log always yields the
// same alerts with the same ids (a hash of rule, group and window). The
// Runner follows the log durably, resumes from a cursor after a restart,
// and appends each alert as alert.raised claimed on the alert's subject, so
// the log itself guarantees that no cause is alerted twice. A Notifier
// pushes new alerts to webhooks and syslog.
//
// Rule kinds: threshold (N items per group in a sliding window; with a
// `when` filter this covers off-hours activity, outside-voting check-ins,
// bulk actions by one actor, many registrations at one address, bursts of
// failed logins and denials), baseline (the current window against mean +
// k·stddev of the trailing days, with a floor), absence (backups overdue,
// a silent mirror), lag (events arriving late: sync lag) and skew (a
// device's clock against the event time).
package detect

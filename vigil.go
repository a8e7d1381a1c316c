// Package vigil holds the domain of vigil, election infrastructure that
// defends, detects and recovers: the nouns every capability shares (events,
// users, roles, scopes), the service interfaces, and the one error type.
//
// The package depends on the standard library only. Sub-packages wrap a
// dependency (sqlite, nats, http) or hold one capability's rules (voter,
// pollbook, tabulate, rla, …); dependencies point inward, to this package.
package vigil

// FormatVersion is the version of the on-disk layout of a data directory.
// A node refuses a directory written with a newer or unknown version and
// never modifies it.
const FormatVersion = 1

// Build information, set by the linker (-X) or left as "dev".
var (
	Version = "0.1.0-dev"
	Commit  = "dev"
)

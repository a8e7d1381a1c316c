package vigil

import "time"

// Event types of the foundation. Each capability adds its own next to its
// domain types. The names are stored in the log forever: never rename one.
const (
	EventUserCreated      EventType = "user.created"
	EventUserPassword     EventType = "user.password_set"
	EventUserMFAEnrolled  EventType = "user.mfa_enrolled"
	EventUserDisabled     EventType = "user.disabled"
	EventUserEnabled      EventType = "user.enabled"
	EventRoleGranted      EventType = "role.granted"
	EventRoleRevoked      EventType = "role.revoked"
	EventAccessDenied     EventType = "access.denied"
	EventAccessPrivileged EventType = "access.privileged" // a privileged read (export, log verify, …)
	EventLoginSucceeded   EventType = "login.succeeded"
	EventLoginFailed      EventType = "login.failed"
	EventCountyDefined    EventType = "county.defined"
	EventPlaceDefined     EventType = "place.defined"
	EventPrecinctDefined  EventType = "precinct.defined"
	EventElectionDefined  EventType = "election.defined"
	EventVoterRegistered  EventType = "voter.registered"
)

// UserCreated is the payload of user.created. PasswordHash is an argon2id
// PHC string: one-way, but still masked in every view.
type UserCreated struct {
	Name         string `json:"name"`
	DisplayName  string `json:"display_name"`
	PasswordHash string `json:"password_hash"`
}

// PasswordSet is the payload of user.password_set.
type PasswordSet struct {
	Name         string `json:"name"`
	PasswordHash string `json:"password_hash"`
}

// MFAEnrolled is the payload of user.mfa_enrolled; the TOTP seed is sealed
// with the node's secrets key.
type MFAEnrolled struct {
	Name       string `json:"name"`
	TOTPSealed string `json:"totp_sealed"`
}

// UserRef is the payload of events that name only a user.
type UserRef struct {
	Name string `json:"name"`
}

// RoleChange is the payload of role.granted and role.revoked.
type RoleChange struct {
	User  string `json:"user"`
	Grant Grant  `json:"grant"`
}

// Denial is the payload of access.denied: who was refused what, where.
type Denial struct {
	Action string `json:"action"`
	Target Scope  `json:"target,omitempty"`
	Route  string `json:"route,omitempty"`
	Reason string `json:"reason"`
	Addr   string `json:"addr,omitempty"`
}

// Privileged is the payload of access.privileged.
type Privileged struct {
	Action string `json:"action"`
	Target Scope  `json:"target,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// LoginAttempt is the payload of login.succeeded and login.failed.
type LoginAttempt struct {
	Name   string `json:"name"`
	Addr   string `json:"addr"`
	Reason string `json:"reason,omitempty"`
}

// County is a county (the unit that runs elections).
type County struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PollingPlace is where voters of one or more precincts vote.
type PollingPlace struct {
	ID      string `json:"id"`
	County  string `json:"county"`
	Name    string `json:"name"`
	Address string `json:"address"`
}

// RollPrecinct is the smallest unit of voters sharing a ballot style.
type RollPrecinct struct {
	ID          string `json:"id"`
	County      string `json:"county"`
	Place       string `json:"place"`
	Name        string `json:"name"`
	BallotStyle string `json:"ballot_style"`
}

// ElectionDay is an election and its voting period; poll workers' grants
// are limited to it.
type ElectionDay struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Day         string    `json:"day"` // YYYY-MM-DD
	VotingStart time.Time `json:"voting_start"`
	VotingEnd   time.Time `json:"voting_end"`
}

// RollVoter is the roll entry carried by voter.registered in the
// foundation's minimal roll (the demo county); the voter registration
// system extends it.
type RollVoter struct {
	ID         string `json:"id"`
	County     string `json:"county"`
	Precinct   string `json:"precinct"`
	FirstName  string `json:"first_name"`
	Middle     string `json:"middle,omitempty"`
	LastName   string `json:"last_name"`
	Suffix     string `json:"suffix,omitempty"`
	BirthDate  string `json:"birth_date"` // YYYY-MM-DD
	Street     string `json:"street"`
	City       string `json:"city"`
	Zip        string `json:"zip"`
	Party      string `json:"party"`
	Status     string `json:"status"`
	Registered string `json:"registered"` // YYYY-MM-DD
}

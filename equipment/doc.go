// Package equipment is the voting-technology lifecycle register: it reads
// and writes inventories, reads security advisories, decides which devices
// need attention and plans their replacement. It is pure: no I/O beyond the
// readers and writers it is handed, and the clock is a parameter.
//
// # Inventory
//
// ReadInventory and WriteInventory use vigil's own CSV layout
// (InventoryColumns). ReadVerifierMachines and ReadVerifierJurisdictions read
// Verified Voting's "Verifier" exports (equipment by jurisdiction), and
// VerifierDevices turns their rows into inventory records so the same rules
// run over public data. Every import reports the line and column of each
// problem, up to ten at a time, and refuses the whole file if there is any:
// a half-imported inventory is worse than none.
//
// # Versions and ranges
//
// Version parses semantic versions and the dotted vendor versions of voting
// systems strictly; Range parses the affected-version ranges of advisories:
//
//	>=5.10.0 <5.10.50.85     both bounds (space means AND)
//	5.4.x                    5.4 and every 5.4.*
//	<=1.2                    up to and including 1.2
//	2.0.1, 2.0.3 || >=3 <3.1 alternatives (comma and || both mean OR)
//	*                        every version
//
// See Range for the grammar and the cases it refuses.
//
// # Lifecycle
//
// Outdated applies Rules (expected life per kind, operating-system end of
// support, withdrawn certifications, the model catalog) and advisories to an
// inventory and returns every device that needs attention with each reason.
// Rules.AllowDevice is the same judgement for one device asking to join,
// such as a pollbook at start-up. Both fail closed: a version that cannot
// be read, or an advisory that cannot be read, counts against the device.
//
// # Replacement plan
//
// Plan lists per year the devices reaching end of life and the budget, priced
// with editable unit Costs (ReadCosts). WritePlanText, WritePlanCSV and
// WritePlanSVG render it; WriteFlagsText and WriteFlagsCSV render Outdated's
// result. These are what "vigil equipment outdated" and "vigil equipment
// plan" print.
package equipment

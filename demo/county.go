// Package demo builds a synthetic county for `vigil demo`: jurisdictions,
// precincts, polling places, an election today, voters with realistic
// names, addresses and ages, and one account per role. The same seed gives
// the same county.
package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/vigil-elections/vigil"
)

// County is the generated data, ready to become events.
type County struct {
	County    vigil.County
	Places    []vigil.PollingPlace
	Precincts []vigil.RollPrecinct
	Election  vigil.ElectionDay
	Voters    []vigil.RollVoter
}

// Options size the county.
type Options struct {
	Seed      uint64
	Voters    int
	Precincts int // at least 20
	Places    int // at least 5
	Today     time.Time
}

// Generate builds a county deterministically from o.Seed.
func Generate(o Options) County {
	if o.Precincts < 20 {
		o.Precincts = 24
	}
	if o.Places < 5 {
		o.Places = 6
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x766967696c))
	c := County{County: vigil.County{ID: "ADAMS", Name: "Adams County"}}
	for i := 1; i <= o.Places; i++ {
		street := streets[r.IntN(len(streets))]
		c.Places = append(c.Places, vigil.PollingPlace{
			ID: fmt.Sprintf("P%02d", i), County: c.County.ID,
			Name:    placeNames[(i-1)%len(placeNames)],
			Address: fmt.Sprintf("%d %s, %s", 100+r.IntN(9000), street, cities[(i-1)%len(cities)]),
		})
	}
	for i := 1; i <= o.Precincts; i++ {
		place := c.Places[(i-1)%len(c.Places)]
		c.Precincts = append(c.Precincts, vigil.RollPrecinct{
			ID: fmt.Sprintf("PCT-%03d", i), County: c.County.ID, Place: place.ID,
			Name: fmt.Sprintf("Precinct %d", i), BallotStyle: fmt.Sprintf("BS-%d", 1+(i-1)%4),
		})
	}
	day := time.Date(o.Today.Year(), o.Today.Month(), o.Today.Day(), 0, 0, 0, 0, o.Today.Location())
	// The demo's voting period runs from today for a week, day and night,
	// so that someone trying the demo at any hour can check voters in; a
	// real election's is the polls' opening hours.
	c.Election = vigil.ElectionDay{ID: "GEN-" + day.Format("2006"), Name: "General Election " + day.Format("2006"),
		Day: day.Format("2006-01-02"), VotingStart: day, VotingEnd: day.AddDate(0, 0, 7)}
	parties := []string{"DEM", "REP", "UNA", "UNA", "DEM", "REP", "LIB", "GRE"}
	for i := 0; i < o.Voters; i++ {
		pct := c.Precincts[r.IntN(len(c.Precincts))]
		first := firstNames[r.IntN(len(firstNames))]
		age := 18 + int(r.ExpFloat64()*18)%80
		born := day.AddDate(-age, 0, -1-r.IntN(364))
		reg := born.AddDate(18+r.IntN(max(1, age-17)), 0, r.IntN(365))
		if reg.After(day) {
			reg = day.AddDate(0, 0, -r.IntN(300)-30)
		}
		status := "active"
		if r.IntN(20) == 0 {
			status = "inactive"
		}
		city := cities[int(pct.Place[1]-'0')%len(cities)]
		c.Voters = append(c.Voters, vigil.RollVoter{
			ID: fmt.Sprintf("AD%08d", 10000000+i*7919%90000000), County: c.County.ID, Precinct: pct.ID,
			FirstName: first, Middle: string(rune('A' + r.IntN(26))), LastName: lastNames[r.IntN(len(lastNames))],
			Suffix:    suffix(r),
			BirthDate: born.Format("2006-01-02"),
			Street:    fmt.Sprintf("%d %s", 1+r.IntN(9999), streets[r.IntN(len(streets))]),
			City:      city, Zip: fmt.Sprintf("8%04d", 1000+r.IntN(800)),
			Party: parties[r.IntN(len(parties))], Status: status, Registered: reg.Format("2006-01-02"),
		})
	}
	return c
}

func suffix(r *rand.Rand) string {
	switch r.IntN(60) {
	case 0:
		return "JR"
	case 1:
		return "SR"
	case 2:
		return "III"
	}
	return ""
}

var placeNames = []string{"Lincoln Elementary School", "Adams County Library", "Grange Hall", "Fire Station 4",
	"St. Mark's Community Center", "Riverside High School", "Veterans Memorial Hall", "Oak Street Recreation Center"}

var cities = []string{"Brighton", "Commerce City", "Thornton", "Northglenn", "Westminster", "Federal Heights"}

var streets = []string{"Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Blvd",
	"Lake View Rd", "Hillcrest Dr", "Park Ave", "Sunset Blvd", "River Rd", "Church St", "Mill Rd", "Spring St",
	"Highland Ave", "Jefferson St", "Walnut St", "Chestnut St", "Willow Way", "Meadow Ln", "Ridge Rd",
	"Forest Dr", "Prairie Ave", "Bridge St", "Union St", "College Ave", "Franklin St", "Lincoln Ave", "Madison St",
	"Grant St", "Sheridan Blvd", "Pecos St", "Federal Blvd", "Huron St", "Quebec St", "Colorado Blvd", "Tower Rd"}

var firstNames = []string{"JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA", "DAVID",
	"ELIZABETH", "WILLIAM", "BARBARA", "RICHARD", "SUSAN", "JOSEPH", "JESSICA", "THOMAS", "SARAH", "CHARLES",
	"KAREN", "CHRISTOPHER", "LISA", "DANIEL", "NANCY", "MATTHEW", "BETTY", "ANTHONY", "MARGARET", "MARK",
	"SANDRA", "DONALD", "ASHLEY", "STEVEN", "KIMBERLY", "PAUL", "EMILY", "ANDREW", "DONNA", "JOSHUA", "MICHELLE",
	"KENNETH", "CAROL", "KEVIN", "AMANDA", "BRIAN", "DOROTHY", "GEORGE", "MELISSA", "TIMOTHY", "DEBORAH",
	"JOSE", "MARIA", "LUIS", "ANA", "CARLOS", "ROSA", "NGUYEN", "MAI", "WEI", "FATIMA", "AHMED", "PRIYA",
	"DESHAWN", "LATOYA", "OLIVIA", "LIAM", "EMMA", "NOAH", "AVA", "ELIJAH", "SOPHIA", "ISABELLA", "LUCAS"}

var lastNames = []string{"SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS",
	"RODRIGUEZ", "MARTINEZ", "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON", "THOMAS", "TAYLOR",
	"MOORE", "JACKSON", "MARTIN", "LEE", "PEREZ", "THOMPSON", "WHITE", "HARRIS", "SANCHEZ", "CLARK",
	"RAMIREZ", "LEWIS", "ROBINSON", "WALKER", "YOUNG", "ALLEN", "KING", "WRIGHT", "SCOTT", "TORRES",
	"NGUYEN", "HILL", "FLORES", "GREEN", "ADAMS", "NELSON", "BAKER", "HALL", "RIVERA", "CAMPBELL",
	"MITCHELL", "CARTER", "ROBERTS", "GOMEZ", "PHILLIPS", "EVANS", "TURNER", "DIAZ", "PARKER", "CRUZ",
	"EDWARDS", "COLLINS", "REYES", "STEWART", "MORRIS", "MORALES", "MURPHY", "COOK", "ROGERS", "GUTIERREZ",
	"ORTIZ", "MORGAN", "COOPER", "PETERSON", "BAILEY", "REED", "KELLY", "HOWARD", "RAMOS", "KIM", "COX",
	"WARD", "RICHARDSON", "WATSON", "BROOKS", "CHAVEZ", "WOOD", "JAMES", "BENNETT", "GRAY", "MENDOZA",
	"RUIZ", "HUGHES", "PRICE", "ALVAREZ", "CASTILLO", "SANDERS", "PATEL", "MYERS", "LONG", "ROSS", "FOSTER",
	"O'BRIEN", "MCDONALD", "DE LA CRUZ", "VAN DYKE", "SCHMIDT", "MUELLER", "KOWALSKI", "NOVAK", "CHEN", "WANG"}

// Account is one demo login.
type Account struct {
	Name, Display string
	Grant         vigil.Grant
}

// Password is the demo accounts' shared password (demo only; printed).
const Password = "vigil-demo-password"

// Accounts returns one account per role, scoped into the generated county.
func Accounts(c County) []Account {
	place := c.Places[0]
	county := vigil.CountyScope(c.County.ID)
	placeScope := vigil.PlaceScope(c.County.ID, place.ID)
	return []Account{
		{"admin", "Sam State-Admin", vigil.Grant{Role: vigil.RoleStateAdmin, Scope: vigil.ScopeState}},
		{"county-admin", "Casey County-Admin", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: county}},
		{"registrar", "Riley Registrar", vigil.Grant{Role: vigil.RoleRegistrar, Scope: county}},
		// A poll worker's grant is the voting period.
		{"pollworker", "Pat Poll-Worker", vigil.Grant{Role: vigil.RolePollWorker, Scope: placeScope,
			NotBefore: c.Election.VotingStart, NotAfter: c.Election.VotingEnd}},
		{"supervisor", "Sky Supervisor", vigil.Grant{Role: vigil.RolePollSupervisor, Scope: placeScope}},
		{"tabulator", "Toni Tabulator", vigil.Grant{Role: vigil.RoleTabulator, Scope: county}},
		{"audit-admin", "Avery Audit-Admin", vigil.Grant{Role: vigil.RoleAuditAdmin, Scope: county}},
		{"audit-board", "Blake Audit-Board", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: county}},
		{"observer", "Oakley Observer", vigil.Grant{Role: vigil.RoleObserver, Scope: vigil.ScopeState}},
		{"equipment", "Emery Equipment", vigil.Grant{Role: vigil.RoleEquipmentManager, Scope: county}},
		{"campaign", "Cam Campaign", vigil.Grant{Role: vigil.RoleCampaignStaff, Scope: "campaign/C1"}},
		{"firm", "Frankie Firm", vigil.Grant{Role: vigil.RoleSecurityFirm, Scope: "firm/F1"}},
		{"security", "Sloane Security", vigil.Grant{Role: vigil.RoleSecurityOfficer, Scope: vigil.ScopeState}},
	}
}

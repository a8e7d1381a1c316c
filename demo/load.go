package demo

import (
	"context"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
)

// Load appends the county's events and creates its accounts. progress, if
// set, is called with the number of voters loaded so far.
func Load(ctx context.Context, log vigil.EventAppender, users *access.Users, actor vigil.Actor, c County,
	now time.Time, progress func(done int)) error {
	if err := LoadRoll(ctx, log, actor, c, now, progress); err != nil {
		return err
	}
	for _, a := range Accounts(c) {
		if err := users.Create(ctx, actor, a.Name, a.Display, Password); err != nil {
			return err
		}
		if err := users.Grant(ctx, actor, a.Name, a.Grant); err != nil {
			return err
		}
	}
	return nil
}

// LoadRoll appends the county's events only: county, election, polling
// places, precincts, then the voters in batches (tests and benchmarks that
// need no accounts use it directly).
func LoadRoll(ctx context.Context, log vigil.EventAppender, actor vigil.Actor, c County, now time.Time, progress func(done int)) error {
	ev := func(typ vigil.EventType, key string, payload any) vigil.Event {
		e, err := vigil.NewEvent(actor, typ, key, now, payload)
		if err != nil {
			panic(err) // payloads here are plain structs
		}
		return e
	}
	events := []vigil.Event{ev(vigil.EventCountyDefined, c.County.ID, c.County),
		ev(vigil.EventElectionDefined, c.Election.ID, c.Election)}
	for _, p := range c.Places {
		events = append(events, ev(vigil.EventPlaceDefined, p.ID, p))
	}
	for _, p := range c.Precincts {
		events = append(events, ev(vigil.EventPrecinctDefined, p.ID, p))
	}
	if _, err := log.Append(ctx, events, vigil.AppendOptions{}); err != nil {
		return err
	}
	const batch = 1000
	for i := 0; i < len(c.Voters); i += batch {
		j := min(i+batch, len(c.Voters))
		if _, err := log.Append(ctx, []vigil.Event{ev(vigil.EventVoterRegistered, "", c.Voters[i:j])}, vigil.AppendOptions{}); err != nil {
			return err
		}
		if progress != nil {
			progress(j)
		}
	}
	return nil
}

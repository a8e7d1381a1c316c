package sqlite

import (
	"encoding/json"
	"testing"
)

// FuzzVoterRowsPayload checks the hand-written reader of row-form payloads
// against encoding/json: it never panics, and whatever it accepts as the
// row form is JSON that encoding/json reads to the same header and rows.
func FuzzVoterRowsPayload(f *testing.F) {
	f.Add([]byte(`{"reason":"new-registration","detail":"import of f","import":"i1","rows":[["A1","","ADAMS"],["A2"]]}`))
	f.Add([]byte(`{"reason":"new-registration","records":[{"id":"A1"}]}`))
	f.Add([]byte(`{"rows":[],"x":{"y":[1,2.5e3,true,null,"\u00e9"]},"detail":"a\"b"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		p, ok, err := decodeVoterRows(payload)
		if !ok || err != nil || !json.Valid(payload) {
			return // the log hands appliers valid JSON only
		}
		var want struct {
			Reason  string            `json:"reason"`
			Detail  string            `json:"detail"`
			Import  string            `json:"import"`
			Rows    []json.RawMessage `json:"rows"`
			Records json.RawMessage   `json:"records"`
		}
		if err := json.Unmarshal(payload, &want); err != nil {
			return // not a rows payload for encoding/json either (e.g. "rows" is not an array)
		}
		if want.Records != nil {
			t.Fatalf("%q: accepted rows and records", payload)
		}
		if string(p.Reason) != want.Reason || p.Detail != want.Detail || p.Import != want.Import || len(p.Rows) != len(want.Rows) {
			t.Fatalf("%q: got %+v, encoding/json %+v", payload, p, want)
		}
		for i := range p.Rows {
			if p.Rows[i] != string(want.Rows[i]) {
				t.Fatalf("%q: row %d is %q, encoding/json %q", payload, i, p.Rows[i], want.Rows[i])
			}
		}
	})
}

package vigil

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeEvent checks the one-pass reader of entry lines against
// encoding/json: whatever it accepts, encoding/json reads to the same
// event, and its payload check agrees with json.Valid.
func FuzzDecodeEvent(f *testing.F) {
	t0 := time.Date(2026, 11, 25, 15, 4, 5, 123456789, time.UTC)
	for _, ev := range []Event{
		{ID: "e1", Origin: "n1", Actor: "clerk", Role: "registrar", Scope: "county/durham", Type: "voter.added", Time: t0,
			Payload: json.RawMessage(`{"reason":"new-registration","rows":[["A1","","ADAMS"],["A2"]],"n":[1,-0.5e+3,true,false,null]}`)},
		{ID: "e2", Origin: "n1", Actor: "system", Role: "system", Type: "node.started", Time: t0, Key: "k"},
		{ID: "e3", Origin: "n1", Actor: "a\"b", Role: "r", Type: "x.y", Time: t0, Payload: json.RawMessage(`["é","\u00e9\n",{}]`)},
		{ID: "e4", Origin: "n1", Actor: "a", Role: "r", Type: "x.y", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600)), Payload: json.RawMessage(`null`)},
	} {
		line, err := MarshalEntry([]Event{ev})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(line)
	}
	f.Add([]byte(`{"id":"e","origin":"o","actor":"a","role":"r","type":"t.x","time":"2026-11-25T15:04:05Z","payload":{"a" : [1, 2 ,{"b":"\uZZZZ"}]}}`))
	f.Add([]byte(`{"id":"e","origin":"o","actor":"a","role":"r","type":"t.x","time":"2026-11-25T15:04:05Z","payload":[01]}`))
	f.Add([]byte(`{"id":"e","origin":"o","actor":"a","role":"r","type":"t.x","time":"2026-11-25T15:04:05Z","payload":[1.]}`))
	f.Add([]byte(`{"id":"e","origin":"o","actor":"a","role":"r","type":"t.x","time":"2026-13-25T15:04:05Z","payload":[]}`))
	f.Add([]byte(`{"id":"\xff","origin":"o","actor":"a","role":"r","type":"t.x","time":"2026-11-25T15:04:05Z","payload":["\xff"]}`))
	f.Add([]byte(`{"id":"e","origin":"o","actor":"a","role":"r","type":"t.x","time":"2026-11-25T15:04:05Z","payload":` +
		strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(line, '\n') >= 0 {
			return // lines only
		}
		got, ok := decodeEvent(line)
		var want Event
		err := json.Unmarshal(line, &want)
		if !ok {
			return // encoding/json decides, as before
		}
		if err != nil {
			t.Fatalf("accepted a line encoding/json refuses (%v): %q", err, line)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("read %+v, encoding/json %+v", got, want)
		}
		if len(got.Payload) > 0 && !json.Valid(got.Payload) {
			t.Fatalf("accepted a payload json.Valid refuses: %q", got.Payload)
		}
	})
}

// FuzzJSONValue checks the payload check alone against json.Valid: the
// same answer for any value up to the depth it follows.
func FuzzJSONValue(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":1}`, `[1,2.5e-3,-0,"x\u00e9\n",true,false,null]`, `{"a" :{ "b":[ ]}}`,
		`[01]`, `[1.]`, `[.5]`, `[-]`, `["\x01"]`, `["\uabcg"]`, `{"a"}`, `[1,]`, `{,}`, `[tru]`, `["a\/b"]`, "[\"\xff\"]", `[1e5,1E+5,1e-5]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := eventDecoder{b: b}
		ok := d.value(0) && d.i == len(b)
		if d.i > len(b) {
			t.Fatalf("read past the end: %d of %d", d.i, len(b))
		}
		if len(b) > 0 && (strings.IndexByte(" \t\n\r", b[0]) >= 0 || strings.IndexByte(" \t\n\r", b[len(b)-1]) >= 0) {
			if ok {
				t.Fatalf("accepted surrounding whitespace: %q", b)
			}
			return // json.Valid allows it; validJSON leaves such payloads to it
		}
		deep := bytes.Count(b, []byte("["))+bytes.Count(b, []byte("{")) > maxFastDepth
		if want := json.Valid(b); ok != want && !(deep && !ok) {
			t.Fatalf("value check says %v, json.Valid %v: %q", ok, want, b)
		}
	})
}

func TestUnmarshalEntryReadsWhatMarshalEntryWrites(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 15, 4, 5, 6, time.UTC)
	evs := []Event{
		{ID: "e1", Origin: "n1", Actor: "clerk", Role: "registrar", Scope: "county/durham", Type: "voter.added", Time: t0,
			Payload: json.RawMessage(`{"rows":[["A1","<b>&"]]}`)},
		{ID: "e2", Origin: "n1", Actor: "Zoë", Role: "system", Type: "node.started", Time: t0, Key: "k"},
		{ID: "e3", Origin: "n1", Actor: "a\tb", Role: "r", Type: "x.y", Time: t0, Payload: json.RawMessage(`"text"`)},
	}
	data, err := MarshalEntry(evs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalEntry(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		var want Event
		if err := json.Unmarshal(bytes.Split(data, []byte("\n"))[i], &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("event %d: read %+v, want %+v", i+1, got[i], want)
		}
	}
	if _, ok := decodeEvent(bytes.Split(data, []byte("\n"))[0]); !ok {
		t.Error("an import's event in MarshalEntry's form did not take the one-pass reader")
	}
	if _, err := UnmarshalEntry(append(data, "\n{"...)); err == nil || ErrorKind(err) != Integrity {
		t.Errorf("a malformed line: %v, want an Integrity error", err)
	}
	bad := bytes.Replace(data, []byte(`"A1"`), []byte(`"A1",]`), 1)
	if _, err := UnmarshalEntry(bad); err == nil {
		t.Error("a payload that is not valid JSON was read")
	}
}

// FuzzAppendEvent checks the one-pass writer of events against
// json.Marshal: whatever it writes, json.Marshal writes the same bytes.
func FuzzAppendEvent(f *testing.F) {
	f.Add("e1", "clerk", "county/durham", "", int64(1764083045123456789), []byte(`{"rows":[["A1","\u003cb\u003e"]],"n":[1,2.5]}`))
	f.Add("e2", "a<b", "", "k", int64(0), []byte(`{"a": 1}`))
	f.Add("e3", "Zoë", "", "", int64(-62135596800000000), []byte(`["\u2028"," "]`))
	f.Add("e4", "x", "s", "k", int64(1), []byte("[\"\xe2\x80\xa8\"]"))
	f.Add("e5", "x", "s", "k", int64(1), []byte(`[1,{"a":"b\"c"}]`))
	f.Add("e6", "x", "s", "k", int64(1), []byte(`[1,]`))
	f.Add("e7", "x", "s", "k", int64(1), []byte(`"text"`))
	f.Fuzz(func(t *testing.T, id, actor, scope, key string, nanos int64, payload []byte) {
		ev := Event{ID: id, Origin: "n1", Actor: actor, Role: "registrar", Scope: Scope(scope), Type: "voter.added",
			Time: time.Unix(0, nanos).UTC(), Key: key, Payload: payload}
		got, ok := appendEvent(nil, &ev)
		if !ok {
			return
		}
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("wrote an event json.Marshal refuses (%v): %q", err, got)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("wrote\n%q\njson.Marshal\n%q", got, want)
		}
		if !validJSON(payload) && len(payload) > 0 {
			t.Fatalf("wrote a payload validJSON refuses: %q", payload)
		}
		if validJSON(payload) != json.Valid(payload) {
			t.Fatalf("validJSON %v, json.Valid %v: %q", validJSON(payload), json.Valid(payload), payload)
		}
	})
}

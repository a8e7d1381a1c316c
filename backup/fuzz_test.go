package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"filippo.io/age"
)

func FuzzReadRecords(f *testing.F) {
	f.Add(appendRecord(appendRecord(nil, 1, "ev.batch._", []byte(`{"id":"a"}`)), 2, "ev.voter.x", []byte("{}")))
	f.Add([]byte{0x01, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Non-minimal varints decode too (the archive's integrity is the
		// hash of its bytes), so compare records, not bytes.
		read := func(b []byte) ([]byte, error) {
			var re []byte
			err := readRecords(bufio.NewReader(bytes.NewReader(b)), func(seq uint64, subject string, d []byte) error {
				re = appendRecord(re, seq, subject, d)
				return nil
			})
			return re, err
		}
		re, _ := read(data)
		again, err := read(re)
		if err != nil || !bytes.Equal(again, re) {
			t.Fatalf("records do not survive a round trip: %v", err)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	m := manifest{Origin: "vigil.log/abc", Node: "n1", Created: time.Unix(1700000000, 5).UTC(), Entries: 7,
		Parts: []partSum{{Name: "meta.json", Size: 10}, {Name: "log/000001", Size: 3}}}
	f.Add(m.text())
	f.Add("vigil-backup v1\nlog x\nnode y\ncreated 2026-01-01T00:00:00Z\nentries 0\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := parseManifest(text)
		if err != nil {
			return
		}
		again, err := parseManifest(m.text())
		if err != nil || !reflect.DeepEqual(m, again) {
			t.Fatalf("manifest does not survive a round trip: %v", err)
		}
	})
}

// FuzzVerify feeds arbitrary archive contents, properly encrypted, to the
// verifier: it must reject them (nothing is signed) without panicking.
func FuzzVerify(f *testing.F) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		f.Fatal(err)
	}
	var seed bytes.Buffer
	tw := tar.NewWriter(&seed)
	for _, p := range []struct{ name, body string }{
		{partMeta, `{"format":1,"node_name":"n","log_id":"x","origin":"vigil.log/x","entries":1,"verifier_key":"n+00000000+AAAA"}`},
		{partNodePub, "n+00000000+AAAA\n"}, {partNodeKey, "PRIVATE+KEY+n+00000000+AAAA\n"}, {partSecretsKey, "00\n"},
		{partCheckpoint, "vigil.log/x\n1\nAAAA\n\n— n AAAA\n"},
		{chunkName(partLog, 1), string(appendRecord(nil, 1, "ev.a.b", []byte("{}")))},
		{partDB, "SQLite format 3\x00"}, {partManifest, "vigil-backup v1\n"},
	} {
		tw.WriteHeader(&tar.Header{Name: p.name, Mode: 0o600, Size: int64(len(p.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(p.body))
	}
	tw.Close()
	f.Add(seed.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, plain []byte) {
		var enc bytes.Buffer
		w, _ := age.Encrypt(&enc, id.Recipient())
		w.Write(plain)
		w.Close()
		if _, err := Verify(context.Background(), &enc, VerifyOptions{Identities: []age.Identity{id}}); err == nil {
			t.Fatal("an unsigned archive verified")
		}
	})
}

package backup

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/vigil-elections/vigil/sqlite"
)

// TestPinnedDatabaseFileIsTheReadersSnapshot: while another connection keeps
// committing rows, the file pinDB hands out does not change until release
// (no checkpoint writes into it) and is a sound database holding the rows.
func TestPinnedDatabaseFileIsTheReadersSnapshot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (i INTEGER PRIMARY KEY, pad TEXT)`); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			db.ExecContext(ctx, `INSERT INTO t(pad) VALUES (?)`, string(make([]byte, 2000)))
		}
	}()
	pinned := 0
	for round := 0; round < 20; round++ {
		path, _, release, err := pinDB(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if release == nil {
			continue // busy: the caller copies instead
		}
		pinned++
		before, _ := os.ReadFile(path)
		copyPath := filepath.Join(dir, "copy.db")
		os.WriteFile(copyPath, before, 0o600)
		after, _ := os.ReadFile(path)
		release()
		if string(before) != string(after) {
			t.Fatal("the pinned file changed while pinned")
		}
		cp, err := sql.Open("sqlite", "file:"+copyPath+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var check string
		var n int
		if err := cp.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Fatalf("the pinned file is not a sound database: %v %s", err, check)
		}
		if err := cp.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		cp.Close()
		os.Remove(copyPath)
		if n == 0 && round > 5 {
			t.Fatalf("round %d: the pinned file holds no rows", round)
		}
	}
	close(stop)
	wg.Wait()
	if pinned == 0 {
		t.Fatal("the database was never pinned under a steady writer")
	}
	t.Logf("pinned %d of 20 times under a steady writer", pinned)
}

package bench

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"filippo.io/age"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/backup"
	"github.com/vigil-elections/vigil/demo"
	"github.com/vigil-elections/vigil/node"
)

// BackupOptions size the backup benchmark.
type BackupOptions struct {
	Dir    string // an empty scratch directory
	Voters int    // demo voters in the node
	Seed   uint64
	Restic bool // run the restic anchor if restic is installed
}

// BackupResult is what RunBackup measured. Rates are over the data
// directory's size on disk, the same bytes restic reads and writes.
type BackupResult struct {
	Voters        int
	Entries       uint64
	Events        int
	DataBytes     int64 // the node's data directory
	PlainBytes    int64 // the tar inside the archive
	ArchiveBytes  int64
	LoadTime      time.Duration
	BackupTime    time.Duration
	VerifyTime    time.Duration
	RestoreTime   time.Duration
	ResticVersion string // "" when the anchor did not run
	ResticBackup  time.Duration
	ResticRestore time.Duration
	ResticNote    string
	// Peak Go heap in use during backup and restore (the node and its
	// embedded NATS server share the process, so this bounds both).
	BackupHeap, RestoreHeap uint64
}

// peakHeap samples the heap until stop is called and returns the peak.
func peakHeap() (stop func() uint64) {
	done := make(chan struct{})
	result := make(chan uint64)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				result <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-result }
}

// MBps is bytes per second in MB/s.
func MBps(bytes int64, d time.Duration) float64 { return float64(bytes) / 1e6 / d.Seconds() }

// RunBackup fills a node with demo voters, then times backup, verify and
// restore, and restic backup and restore of the same data directory.
func RunBackup(ctx context.Context, o BackupOptions, progress io.Writer) (BackupResult, error) {
	res := BackupResult{Voters: o.Voters}
	say := func(f string, a ...any) {
		if progress != nil {
			fmt.Fprintf(progress, f+"\n", a...)
		}
	}
	dir := filepath.Join(o.Dir, "node")
	if _, err := node.Init(ctx, node.InitOptions{Dir: dir, Name: "bench"}); err != nil {
		return res, err
	}
	n, err := node.Open(ctx, node.Options{Dir: dir})
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	c := demo.Generate(demo.Options{Seed: o.Seed, Voters: o.Voters, Today: time.Now()})
	actor := vigil.Actor{Name: "bench", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: n.Origin()}
	err = demo.Load(ctx, n, access.NewUsers(n.DB, n, n.Keys, n.Origin(), n.Now), actor, c, n.Now(), nil)
	c = demo.County{}
	if err != nil {
		n.Close()
		return res, err
	}
	res.LoadTime = time.Since(t0)
	say("loaded %d voters in %.1f s", o.Voters, res.LoadTime.Seconds())
	id, err := age.GenerateX25519Identity()
	if err != nil {
		n.Close()
		return res, err
	}
	// Settle: one checkpoint covering everything, the database checkpointed.
	if _, err := n.Checkpoint(ctx); err != nil {
		n.Close()
		return res, err
	}
	n.DB.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	if res.DataBytes, err = du(dir); err != nil {
		n.Close()
		return res, err
	}
	archive := filepath.Join(o.Dir, "backup"+backup.Ext)
	runtime.GC()
	stopHeap := peakHeap()
	t0 = time.Now()
	_, br, err := backup.WriteFile(ctx, n, archive, backup.Options{Recipients: []age.Recipient{id.Recipient()}})
	res.BackupTime = time.Since(t0)
	res.BackupHeap = stopHeap()
	n.Close()
	if err != nil {
		return res, err
	}
	res.Entries, res.Events, res.PlainBytes = br.Meta.Entries, br.Events, br.Bytes
	if st, err := os.Stat(archive); err == nil {
		res.ArchiveBytes = st.Size()
	}
	say("backup: %.1f s, %.0f MB/s of data directory", res.BackupTime.Seconds(), MBps(res.DataBytes, res.BackupTime))
	vo := backup.VerifyOptions{Identities: []age.Identity{id}}
	f, err := os.Open(archive)
	if err != nil {
		return res, err
	}
	t0 = time.Now()
	_, err = backup.Verify(ctx, f, vo)
	res.VerifyTime = time.Since(t0)
	f.Close()
	if err != nil {
		return res, err
	}
	f, err = os.Open(archive)
	if err != nil {
		return res, err
	}
	runtime.GC()
	stopHeap = peakHeap()
	t0 = time.Now()
	_, err = backup.Restore(ctx, f, backup.RestoreOptions{VerifyOptions: vo, Dir: filepath.Join(o.Dir, "restored")})
	res.RestoreTime = time.Since(t0)
	res.RestoreHeap = stopHeap()
	f.Close()
	if err != nil {
		return res, err
	}
	say("restore: %.1f s, %.0f MB/s", res.RestoreTime.Seconds(), MBps(res.DataBytes, res.RestoreTime))
	os.RemoveAll(filepath.Join(o.Dir, "restored"))
	if o.Restic {
		res.ResticNote = resticAnchor(ctx, o.Dir, dir, &res)
		if res.ResticNote != "" {
			say("restic: %s", res.ResticNote)
		}
	}
	return res, nil
}

// resticAnchor times restic backup and restore of the same directory.
func resticAnchor(ctx context.Context, scratch, data string, res *BackupResult) string {
	bin, err := exec.LookPath("restic")
	if err != nil {
		return "restic is not installed (apt-get install restic); no anchor"
	}
	repo := filepath.Join(scratch, "restic-repo")
	env := append(os.Environ(), "RESTIC_REPOSITORY="+repo, "RESTIC_PASSWORD=vigil-bench", "RESTIC_CACHE_DIR="+filepath.Join(scratch, "restic-cache"))
	runR := func(args ...string) error {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("restic %v: %v: %s", args, err, out)
		}
		return nil
	}
	if out, err := exec.CommandContext(ctx, bin, "version").Output(); err == nil {
		res.ResticVersion = string(out)
	}
	if err := runR("init"); err != nil {
		return err.Error()
	}
	t0 := time.Now()
	if err := runR("backup", "--quiet", data); err != nil {
		return err.Error()
	}
	res.ResticBackup = time.Since(t0)
	t0 = time.Now()
	if err := runR("restore", "latest", "--quiet", "--target", filepath.Join(scratch, "restic-restored")); err != nil {
		return err.Error()
	}
	res.ResticRestore = time.Since(t0)
	os.RemoveAll(filepath.Join(scratch, "restic-restored"))
	return ""
}

// du sums the sizes of the regular files under dir.
func du(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}

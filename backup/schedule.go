package backup

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/node"
)

// Ext is the file extension of a backup archive.
const Ext = ".vigil.age"

// FileName is the name of a backup of node taken at t. Names sort by time.
func FileName(nodeName string, t time.Time) string {
	return "vigil-" + sanitize(nodeName) + "-" + t.UTC().Format("20060102T150405.000Z") + Ext
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// WriteFile writes a backup of n to path (or, if path is a directory, to
// a new file named by FileName in it) atomically: a partial file never has
// the final name. It returns the path written.
func WriteFile(ctx context.Context, n *node.Node, path string, o Options) (string, Result, error) {
	const op = "backup.write"
	if o.Now == nil {
		o.Now = time.Now
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() || strings.HasSuffix(path, string(filepath.Separator)) {
		if err := os.MkdirAll(path, 0o700); err != nil {
			return "", Result{}, vigil.Wrap(op, vigil.Unavailable, err)
		}
		path = filepath.Join(path, FileName(n.Meta.NodeName, o.Now()))
	}
	if _, err := os.Stat(path); err == nil {
		return "", Result{}, vigil.Errorf(vigil.Conflict, op, "%s exists; a backup never overwrites a file", path)
	}
	if o.TempDir == "" {
		o.TempDir = filepath.Dir(path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".backup-*.partial")
	if err != nil {
		return "", Result{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	defer os.Remove(f.Name())
	res, err := Write(ctx, n, f, o)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = vigil.Wrap(op, vigil.Unavailable, cerr)
	}
	if err != nil {
		return "", res, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return "", res, vigil.Wrap(op, vigil.Unavailable, err)
	}
	return path, res, nil
}

// List returns the backup archives in dir, oldest first.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, vigil.Errorf(vigil.NotFound, "backup.list", "cannot read backup directory %s: %v", dir, err)
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), "vigil-") && strings.HasSuffix(e.Name(), Ext) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Slice(out, func(i, j int) bool { return stamp(out[i]) < stamp(out[j]) })
	return out, nil
}

// stamp is the time part of a backup file name.
func stamp(path string) string {
	name := strings.TrimSuffix(filepath.Base(path), Ext)
	return name[strings.LastIndexByte(name, '-')+1:]
}

// Latest returns the newest backup archive in dir.
func Latest(dir string) (string, error) {
	files, err := List(dir)
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", vigil.Errorf(vigil.NotFound, "backup.latest", "%s holds no backup (files named vigil-*%s)", dir, Ext)
	}
	return files[len(files)-1], nil
}

// Prune removes all but the newest keep archives in dir.
func Prune(dir string, keep int) ([]string, error) {
	if keep <= 0 {
		return nil, nil
	}
	files, err := List(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for len(files) > keep {
		if err := os.Remove(files[0]); err != nil {
			return removed, vigil.Wrap("backup.prune", vigil.Unavailable, err)
		}
		removed = append(removed, files[0])
		files = files[1:]
	}
	return removed, nil
}

// Schedule takes backups of a serving node at an interval and keeps the
// newest Keep of them in Dir.
type Schedule struct {
	Dir        string
	Every      time.Duration
	Keep       int
	Recipients []age.Recipient
	// Remote, if set, receives a copy of every backup and keeps Keep too.
	Remote *SFTPTarget
	Logger *slog.Logger
	// Done, if set, is called after every attempt (tests, the backup.completed event).
	Done func(path string, res Result, err error)
}

// Run takes a backup every s.Every until ctx ends. A failed backup is
// logged and retried at the next tick; it does not stop the node.
func (s Schedule) Run(ctx context.Context, n *node.Node) {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		path, res, err := WriteFile(ctx, n, s.Dir, Options{Recipients: s.Recipients})
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.Logger.Error("scheduled backup failed", "dir", s.Dir, "err", err)
		} else {
			s.Logger.Info("backup written", "file", path, "entries", res.Meta.Entries, "bytes", res.Bytes,
				"seconds", fmt.Sprintf("%.2f", time.Since(start).Seconds()))
			if removed, err := Prune(s.Dir, s.Keep); err != nil {
				s.Logger.Error("pruning old backups failed", "err", err)
			} else if len(removed) > 0 {
				s.Logger.Info("old backups removed", "files", removed)
			}
			if s.Remote != nil {
				err = s.upload(ctx, path)
			}
		}
		if s.Done != nil {
			s.Done(path, res, err)
		}
	}
}

// upload copies a backup to the remote target and prunes it there. A
// failure is reported like a failed backup: the local copy exists, but the
// off-site one does not.
func (s Schedule) upload(ctx context.Context, path string) error {
	if err := s.Remote.Upload(ctx, path); err != nil {
		s.Logger.Error("copying the backup off-site failed", "file", path, "err", err)
		return err
	}
	s.Logger.Info("backup copied off-site", "file", filepath.Base(path), "to", s.Remote.URL)
	if removed, err := s.Remote.Prune(ctx, s.Keep); err != nil {
		s.Logger.Error("pruning old off-site backups failed", "err", err)
	} else if len(removed) > 0 {
		s.Logger.Info("old off-site backups removed", "files", removed)
	}
	return nil
}

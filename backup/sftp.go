package backup

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"github.com/vigil-elections/vigil"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SFTPTarget is a directory on another machine, reached over SFTP (an
// OpenSSH server), that receives copies of the backups.
//
// The server MUST be identified by a known_hosts file: an unknown or
// changed host key is refused, never accepted on first use. The archives
// are already encrypted, so the remote machine holds nothing it can read.
type SFTPTarget struct {
	URL        string // sftp://user@host[:port]/dir
	KeyFile    string // the client's private key (OpenSSH format, unencrypted)
	KnownHosts string // known_hosts holding the server's host key
}

func (t SFTPTarget) parse() (u *url.URL, dir string, err error) {
	u, err = url.Parse(t.URL)
	if err != nil || u.Scheme != "sftp" || u.Host == "" || u.Path == "" {
		return nil, "", vigil.FieldError("backup.sftp", "sftp", "%q is not sftp://user@host[:port]/directory", t.URL)
	}
	return u, u.Path, nil
}

// Check validates the target's settings without connecting.
func (t SFTPTarget) Check() error {
	if _, _, err := t.parse(); err != nil {
		return err
	}
	if t.KeyFile == "" || t.KnownHosts == "" {
		return vigil.FieldError("backup.sftp", "sftp-key", "an SFTP target needs a private key file and a known_hosts file")
	}
	return nil
}

func (t SFTPTarget) connect(ctx context.Context) (*ssh.Client, *sftp.Client, string, error) {
	const op = "backup.sftp"
	u, dir, err := t.parse()
	if err != nil {
		return nil, nil, "", err
	}
	keyPEM, err := os.ReadFile(t.KeyFile)
	if err != nil {
		return nil, nil, "", vigil.FieldError(op, "sftp-key", "cannot read %s: %v", t.KeyFile, err)
	}
	signer, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, nil, "", vigil.FieldError(op, "sftp-key", "%s is not an unencrypted OpenSSH private key: %v", t.KeyFile, err)
	}
	hostKeys, err := knownhosts.New(t.KnownHosts)
	if err != nil {
		return nil, nil, "", vigil.FieldError(op, "sftp-known-hosts", "cannot read %s: %v", t.KnownHosts, err)
	}
	name := u.User.Username()
	if name == "" {
		if cur, err := user.Current(); err == nil {
			name = cur.Username
		}
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "22")
	}
	cfg := &ssh.ClientConfig{User: name, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys, Timeout: 15 * time.Second}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, nil, "", vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("cannot reach %s: %w", host, err))
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, host, cfg)
	if err != nil {
		conn.Close()
		return nil, nil, "", &vigil.Error{Op: op, Kind: vigil.Unavailable, Err: err,
			Message: fmt.Sprintf("SSH to %s failed (check the key, the user and known_hosts): %v", host, err)}
	}
	client := ssh.NewClient(c, chans, reqs)
	sc, err := sftp.NewClient(client)
	if err != nil {
		client.Close()
		return nil, nil, "", vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("%s offers no SFTP: %w", host, err))
	}
	return client, sc, dir, nil
}

// Upload copies a local archive into the remote directory under the same
// name. The copy is written under a temporary name, synced when the server
// supports it, and renamed, so the remote directory never holds a partial
// archive under a backup's name.
func (t SFTPTarget) Upload(ctx context.Context, local string) error {
	const op = "backup.sftp"
	client, sc, dir, err := t.connect(ctx)
	if err != nil {
		return err
	}
	defer client.Close()
	defer sc.Close()
	if err := sc.MkdirAll(dir); err != nil {
		return vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("creating %s: %w", dir, err))
	}
	src, err := os.Open(local)
	if err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	defer src.Close()
	final := path.Join(dir, filepath.Base(local))
	tmp := path.Join(dir, "."+filepath.Base(local)+".partial")
	dst, err := sc.Create(tmp)
	if err != nil {
		return vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("creating %s: %w", tmp, err))
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		sc.Remove(tmp)
		return vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("uploading %s: %w", final, err))
	}
	if _, ok := sc.HasExtension("fsync@openssh.com"); ok {
		if err := dst.Sync(); err != nil {
			dst.Close()
			sc.Remove(tmp)
			return vigil.Wrap(op, vigil.Unavailable, err)
		}
	}
	if err := dst.Close(); err != nil {
		sc.Remove(tmp)
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	if err := sc.PosixRename(tmp, final); err != nil {
		sc.Remove(tmp)
		return vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("renaming %s: %w", final, err))
	}
	return nil
}

// List returns the archives in the remote directory, oldest first.
func (t SFTPTarget) List(ctx context.Context) ([]string, error) {
	client, sc, dir, err := t.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	defer sc.Close()
	return remoteArchives(sc, dir)
}

func remoteArchives(sc *sftp.Client, dir string) ([]string, error) {
	infos, err := sc.ReadDir(dir)
	if err != nil {
		return nil, vigil.Wrap("backup.sftp", vigil.Unavailable, err)
	}
	var out []string
	for _, fi := range infos {
		if fi.Mode().IsRegular() && strings.HasPrefix(fi.Name(), "vigil-") && strings.HasSuffix(fi.Name(), Ext) {
			out = append(out, path.Join(dir, fi.Name()))
		}
	}
	sort.Slice(out, func(i, j int) bool { return stamp(out[i]) < stamp(out[j]) })
	return out, nil
}

// Prune removes all but the newest keep archives in the remote directory.
func (t SFTPTarget) Prune(ctx context.Context, keep int) ([]string, error) {
	if keep <= 0 {
		return nil, nil
	}
	client, sc, dir, err := t.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	defer sc.Close()
	files, err := remoteArchives(sc, dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for len(files) > keep {
		if err := sc.Remove(files[0]); err != nil {
			return removed, vigil.Wrap("backup.sftp", vigil.Unavailable, err)
		}
		removed = append(removed, files[0])
		files = files[1:]
	}
	return removed, nil
}

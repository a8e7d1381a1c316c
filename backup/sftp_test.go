package backup_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/backup"
)

// MustSSHD runs Debian's OpenSSH server on loopback with a fresh host key
// and one authorized client key, and returns an SFTP target for dir.
func MustSSHD(t *testing.T) (target backup.SFTPTarget, dir string) {
	t.Helper()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
			t.Skip("OpenSSH server is not installed (apt-get install openssh-server)")
		}
		sshd = "/usr/sbin/sshd"
	}
	if os.Geteuid() != 0 {
		t.Skip("the OpenSSH server test runs sshd as root")
	}
	os.MkdirAll("/run/sshd", 0o755) // sshd's privilege separation directory
	tmp := t.TempDir()
	keygen := func(name string) {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(tmp, name)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
	}
	keygen("host")
	keygen("client")
	pub, _ := os.ReadFile(filepath.Join(tmp, "client.pub"))
	os.WriteFile(filepath.Join(tmp, "authorized_keys"), pub, 0o600)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel ERROR
`, port, filepath.Join(tmp, "host"), filepath.Join(tmp, "sshd.pid"), filepath.Join(tmp, "authorized_keys"))
	os.WriteFile(filepath.Join(tmp, "sshd_config"), []byte(cfg), 0o600)
	cmd := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(tmp, "sshd_config"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not start: %s", stderr.String())
		}
	}
	hostPub, _ := os.ReadFile(filepath.Join(tmp, "host.pub"))
	f := strings.Fields(string(hostPub))
	known := filepath.Join(tmp, "known_hosts")
	os.WriteFile(known, []byte(fmt.Sprintf("[127.0.0.1]:%d %s %s\n", port, f[0], f[1])), 0o600)
	u, _ := user.Current()
	dir = filepath.Join(t.TempDir(), "offsite")
	return backup.SFTPTarget{URL: fmt.Sprintf("sftp://%s@127.0.0.1:%d%s", u.Username, port, dir),
		KeyFile: filepath.Join(tmp, "client"), KnownHosts: known}, dir
}

func TestScheduledBackupsAreCopiedOffSiteOverSFTP(t *testing.T) {
	target, remoteDir := MustSSHD(t)
	n := MustNode(t, 100)
	id := MustIdentity(t)
	local := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	var results []error
	s := backup.Schedule{Dir: local, Every: 300 * time.Millisecond, Keep: 2, Recipients: []age.Recipient{id.Recipient()}, Remote: &target,
		Done: func(path string, res backup.Result, err error) {
			results = append(results, err)
			// The log grows between backups (not t.Fatal: this is the
			// scheduler's goroutine).
			ev, _ := vigil.NewEvent(vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: n.Origin()},
				"test.appended", fmt.Sprint(len(results)), n.Now(), nil)
			n.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
			if len(results) == 3 {
				cancel()
			}
		}}
	go func() { defer close(done); s.Run(ctx, n) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("three scheduled backups did not finish in 60 s")
	}
	for i, err := range results {
		if err != nil {
			t.Fatalf("scheduled backup %d: %v", i+1, err)
		}
	}
	remote, err := target.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	localFiles, _ := backup.List(local)
	if len(remote) != 2 || len(localFiles) != 2 {
		t.Fatalf("kept %d remote and %d local backups, want 2 each: %v", len(remote), len(localFiles), remote)
	}
	for i := range remote {
		a, _ := os.ReadFile(remote[i]) // the "remote" directory is on this machine
		b, _ := os.ReadFile(localFiles[i])
		if filepath.Base(remote[i]) != filepath.Base(localFiles[i]) || !bytes.Equal(a, b) {
			t.Fatalf("off-site copy %s differs from %s", remote[i], localFiles[i])
		}
		if _, err := backup.Verify(t.Context(), bytes.NewReader(a), backup.VerifyOptions{Identities: []age.Identity{id}}); err != nil {
			t.Fatalf("off-site copy does not verify: %v", err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(remoteDir, ".*partial")); len(left) > 0 {
		t.Fatalf("partial uploads left: %v", left)
	}

	t.Run("a server with another host key is refused", func(t *testing.T) {
		bad := target
		tmp := t.TempDir()
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(tmp, "other")).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
		other := strings.Fields(mustRead(t, filepath.Join(tmp, "other.pub")))
		known := strings.Fields(mustRead(t, target.KnownHosts))
		bad.KnownHosts = filepath.Join(tmp, "known_hosts")
		os.WriteFile(bad.KnownHosts, []byte(known[0]+" "+other[0]+" "+other[1]+"\n"), 0o600)
		err := bad.Upload(t.Context(), localFiles[0])
		if vigil.ErrorKind(err) != vigil.Unavailable || !strings.Contains(vigil.ErrorMessage(err), "known_hosts") {
			t.Fatalf("upload to a server with an unexpected host key: %v", err)
		}
	})
}

func mustRead(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

package nats

import (
	"fmt"
	"net/url"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/vigil-elections/vigil"
)

// Config describes an embedded NATS server.
type Config struct {
	Name     string // server name, unique in a cluster
	StoreDir string // JetStream file store
	Key      string // encryption-at-rest key; required
	Domain   string // JetStream domain ("" for the hub)

	// Client listener. Listen false keeps the server in-process only.
	Listen bool
	Host   string
	Port   int // 0 picks a free port
	Token  string

	// NoSync turns SyncAlways off. Only a restore sets it: it fsyncs every
	// store file itself before the directory is used (backup/restore.go).
	NoSync bool

	// Cluster routes, for a multi-node hub (empty: standalone).
	ClusterName   string
	ClusterHost   string
	ClusterPort   int
	ClusterRoutes []string

	// Remote mirror sites (nats/mirror.go): a hub's TLS listener for
	// mirrors, or a mirror's link to its hub.
	MirrorListener *MirrorListener
	MirrorUplink   *MirrorUplink
}

// Server is an embedded NATS server with JetStream.
type Server struct {
	ns   *server.Server
	cfg  Config
	auth *mirrorAuth // the links it admits, when it listens for them
}

// Start runs an embedded server and waits until it is ready.
func Start(cfg Config) (*Server, error) {
	const op = "nats.start"
	if cfg.Key == "" {
		return nil, vigil.Errorf(vigil.Invalid, op, "no encryption key for the JetStream store")
	}
	opts := &server.Options{
		ServerName:         cfg.Name,
		JetStream:          true,
		StoreDir:           cfg.StoreDir,
		JetStreamKey:       cfg.Key,
		JetStreamCipher:    server.ChaCha,
		JetStreamDomain:    cfg.Domain,
		SyncAlways:         !cfg.NoSync,
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         8 << 20,
		JetStreamMaxMemory: 256 << 20,
	}
	if cfg.Listen {
		opts.Host = cfg.Host
		if opts.Host == "" {
			opts.Host = "127.0.0.1"
		}
		opts.Port = cfg.Port
		if opts.Port == 0 {
			opts.Port = server.RANDOM_PORT
		}
		opts.Authorization = cfg.Token
	} else {
		opts.DontListen = true
	}
	if cfg.ClusterName != "" {
		opts.Cluster.Name = cfg.ClusterName
		opts.Cluster.Host = cfg.ClusterHost
		opts.Cluster.Port = cfg.ClusterPort
		for _, r := range cfg.ClusterRoutes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, vigil.FieldError(op, "cluster route", "%q is not a URL", r)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	if err := applyMirror(opts, cfg); err != nil {
		return nil, err
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, vigil.Wrap(op, vigil.Unavailable, err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, vigil.Errorf(vigil.Unavailable, op, "embedded NATS server did not become ready in 30s")
	}
	auth, _ := opts.CustomClientAuthentication.(*mirrorAuth)
	return &Server{ns: ns, cfg: cfg, auth: auth}, nil
}

// ClientURL is the URL of the client listener ("" if not listening).
func (s *Server) ClientURL() string {
	if !s.cfg.Listen {
		return ""
	}
	return s.ns.ClientURL()
}

// Connect opens an in-process client connection.
func (s *Server) Connect(name string) (*natsgo.Conn, error) {
	nc, err := natsgo.Connect("", append([]natsgo.Option{natsgo.InProcessServer(s.ns), natsgo.Name(name),
		natsgo.Token(s.cfg.Token), natsgo.MaxReconnects(-1)}, s.mirrorClientOptions()...)...)
	if err != nil {
		return nil, vigil.Wrap("nats.connect", vigil.Unavailable, err)
	}
	return nc, nil
}

// Shutdown stops the server and waits for it to flush.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// ClientOptions are how a node reaches an external NATS deployment.
type ClientOptions struct {
	URL       string
	Token     string
	CredsFile string
	CAFile    string
	CertFile  string
	KeyFile   string
	Name      string
}

// Dial connects to an external NATS server or cluster.
func Dial(o ClientOptions) (*natsgo.Conn, error) {
	const op = "nats.dial"
	opts := []natsgo.Option{natsgo.Name(o.Name), natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(250 * time.Millisecond), natsgo.Timeout(5 * time.Second)}
	if o.Token != "" {
		opts = append(opts, natsgo.Token(o.Token))
	}
	if o.CredsFile != "" {
		opts = append(opts, natsgo.UserCredentials(o.CredsFile))
	}
	if o.CAFile != "" {
		opts = append(opts, natsgo.RootCAs(o.CAFile))
	}
	if o.CertFile != "" || o.KeyFile != "" {
		opts = append(opts, natsgo.ClientCert(o.CertFile, o.KeyFile))
	}
	nc, err := natsgo.Connect(o.URL, opts...)
	if err != nil {
		return nil, &vigil.Error{Op: op, Kind: vigil.Unavailable,
			Message: fmt.Sprintf("cannot reach NATS at %s: %v", o.URL, err), Err: err}
	}
	return nc, nil
}

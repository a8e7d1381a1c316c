package nats

import (
	"crypto/subtle"
	"slices"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
	"golang.org/x/crypto/bcrypt"
)

// mirrorAuth authenticates the connections of a hub that admits mirrors:
// local clients with the node's token, as without mirrors, and mirrors'
// leaf links with their password, bound to the permissions of one mirror.
type mirrorAuth struct {
	token  string
	domain string // this server's JetStream domain

	mu      sync.RWMutex
	mirrors map[string]string // name -> bcrypt hash of the password
	sites   map[string]bool   // mirrors that are polling-place sites
	revoked map[string]bool   // revoked while running: refused without hashing
}

// Check implements server.Authentication.
func (a *mirrorAuth) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	switch c.Kind() {
	case server.CLIENT:
		return a.token == "" || subtle.ConstantTimeCompare([]byte(o.Token), []byte(a.token)) == 1
	case server.LEAF:
		a.mu.RLock()
		hash, ok := a.mirrors[o.Username]
		site, revoked := a.sites[o.Username], a.revoked[o.Username]
		a.mu.RUnlock()
		if revoked {
			return false // it retries every 250 ms: no bcrypt for it
		}
		if !ok {
			// The same work for an unknown name as for a wrong password.
			bcrypt.CompareHashAndPassword(dummyHash(), []byte(o.Password))
			return false
		}
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(o.Password)) != nil {
			return false
		}
		p := mirrorPermissions(o.Username, a.domain)
		if site {
			// A site also sends its appends and offline entries, which
			// the hub checks before anything reaches its log.
			p.Publish.Allow = append(p.Publish.Allow, SiteAppendSubject(o.Username), SiteMergeSubject(o.Username))
		}
		// The hub tells the mirror's server its permissions (INFO), so
		// that the mirror never sends what the hub would refuse.
		o.Export, o.Import = p.Publish, p.Subscribe
		c.RegisterUser(&server.User{Username: o.Username, Permissions: p})
		return true
	}
	return false
}

// mirrorPermissions are what one mirror's server may send to the hub
// (Publish) and receive from it (Subscribe): its own consumers' API and
// deliveries, flow control, its reports, and replies on subjects that name
// it (never _INBOX.>, where it would see the replies to the hub's own
// clients, session reads included). Nothing on ev.>, ckpt.> or $KV.>: a
// mirror credential cannot write the hub's log or read its sessions.
// domain is the JetStream domain of the server granting them (HubDomain on
// a hub; a site's own for the laptops joined to it).
func mirrorPermissions(name, domain string) *server.Permissions {
	api := "$JS." + domain + ".API."
	var pub []string
	for _, stream := range mirrorStreams {
		consumer, _ := mirrorConsumer(name, stream)
		pub = append(pub, api+"STREAM.INFO."+stream, api+"CONSUMER.INFO."+stream+"."+consumer,
			api+"CONSUMER.RESET."+stream+"."+consumer)
	}
	pub = append(pub, "$JS.FC.>", MirrorReportSubject(name))
	_, deliver := mirrorConsumer(name, "")
	sub := []string{deliver + ">", mirrorInbox(name) + ".>", "$LDS.>"}
	for _, stream := range mirrorStreams {
		consumer, _ := mirrorConsumer(name, stream)
		sub = append(sub, "$JSC.R."+domain+".*."+stream+"."+consumer+".*")
	}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub},
		Subscribe: &server.SubjectPermission{Allow: sub},
	}
}

// RevokeLinks stops admitting the named mirrors (sites, laptops) while the
// server runs: a new link with their credential is refused, and a link up
// now is closed.
func (s *Server) RevokeLinks(names []string) {
	a := s.auth
	if a == nil {
		return
	}
	a.mu.Lock()
	if a.revoked == nil {
		a.revoked = map[string]bool{}
	}
	for _, name := range names {
		delete(a.mirrors, name)
		delete(a.sites, name)
		a.revoked[name] = true
	}
	a.mu.Unlock()
	lz, err := s.ns.Leafz(nil)
	if err != nil {
		return
	}
	for _, l := range lz.Leafs {
		// A link's server is named as its credential (node.InitMirror).
		if !l.IsSpoke && slices.Contains(names, l.Name) {
			s.ns.DisconnectClientByID(l.ID)
		}
	}
}

var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("vigil-no-such-mirror"), bcrypt.DefaultCost)
	return h
})

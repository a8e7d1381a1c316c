package nats

import (
	"crypto/subtle"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
	"golang.org/x/crypto/bcrypt"
)

// mirrorAuth authenticates the connections of a hub that admits mirrors:
// local clients with the node's token, as without mirrors, and mirrors'
// leaf links with their password, bound to the permissions of one mirror.
type mirrorAuth struct {
	token   string
	domain  string            // this server's JetStream domain
	mirrors map[string]string // name -> bcrypt hash of the password
	sites   map[string]bool   // mirrors that are polling-place sites
}

// Check implements server.Authentication.
func (a *mirrorAuth) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	switch c.Kind() {
	case server.CLIENT:
		return a.token == "" || subtle.ConstantTimeCompare([]byte(o.Token), []byte(a.token)) == 1
	case server.LEAF:
		hash, ok := a.mirrors[o.Username]
		if !ok {
			// The same work for an unknown name as for a wrong password.
			bcrypt.CompareHashAndPassword(dummyHash(), []byte(o.Password))
			return false
		}
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(o.Password)) != nil {
			return false
		}
		p := mirrorPermissions(o.Username, a.domain)
		if a.sites[o.Username] {
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

var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("vigil-no-such-mirror"), bcrypt.DefaultCost)
	return h
})

package access

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/vigil-elections/vigil"
)

// UserRecord is a user with the secrets the access layer needs.
type UserRecord struct {
	vigil.User
	PasswordHash string
	TOTPSealed   string
}

// UserStore reads accounts from the projections.
type UserStore interface {
	// UserRecord returns one account. Errors: NotFound.
	UserRecord(ctx context.Context, name string) (UserRecord, error)
	// Users lists every account.
	Users(ctx context.Context) ([]vigil.User, error)
}

// Sealer seals and opens secrets stored inside events.
type Sealer interface {
	Seal(plain []byte) string
	Open(sealed string) ([]byte, error)
}

// Users manages accounts: every change is an event appended to the log.
type Users struct {
	Store  UserStore
	Log    vigil.EventAppender
	Sealer Sealer
	Now    func() time.Time
	Argon  Argon2Params
	Origin string
	// NoMFA turns the MFA requirement off (the demo only).
	NoMFA bool

	ByAccount *Throttle // failed logins per account
	ByAddr    *Throttle // failed logins per client address
}

// NewUsers returns a Users with default throttles: 5 failures per account
// and 20 per address in 15 minutes.
func NewUsers(store UserStore, log vigil.EventAppender, sealer Sealer, origin string, now func() time.Time) *Users {
	return &Users{Store: store, Log: log, Sealer: sealer, Now: now, Argon: DefaultArgon2, Origin: origin,
		ByAccount: NewThrottle(5, 15*time.Minute), ByAddr: NewThrottle(20, 15*time.Minute)}
}

func (u *Users) event(actor vigil.Actor, typ vigil.EventType, key string, payload any) (vigil.Event, error) {
	if actor.Origin == "" {
		actor.Origin = u.Origin
	}
	return vigil.NewEvent(actor, typ, key, u.Now(), payload)
}

// Create adds an account. Errors: Invalid, Conflict (name taken).
func (u *Users) Create(ctx context.Context, actor vigil.Actor, name, display, password string) error {
	const op = "user.create"
	if err := vigil.ValidateUserName(name); err != nil {
		return err
	}
	display = strings.TrimSpace(display)
	if display == "" || len(display) > 120 {
		return vigil.FieldError(op, "display_name", "must be 1-120 characters")
	}
	if err := CheckPasswordPolicy(password); err != nil {
		return err
	}
	ev, err := u.event(actor, vigil.EventUserCreated, name,
		vigil.UserCreated{Name: name, DisplayName: display, PasswordHash: HashPassword(password, u.Argon)})
	if err != nil {
		return err
	}
	var none uint64
	// Claim the name in the log: two admins racing for it get one account.
	if _, err := u.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &none}); err != nil {
		if vigil.ErrorKind(err) == vigil.Conflict {
			return &vigil.Error{Op: op, Kind: vigil.Conflict, Field: "name", Message: "an account named " + name + " already exists"}
		}
		return err
	}
	return nil
}

// Grant gives user a role. An actor can grant only inside their own scope
// and never a role that reaches above it. Errors: Invalid, NotFound, Permission.
func (u *Users) Grant(ctx context.Context, actor vigil.Actor, user string, g vigil.Grant) error {
	const op = "role.grant"
	if err := g.Validate(); err != nil {
		return err
	}
	if _, err := u.Store.UserRecord(ctx, user); err != nil {
		return err
	}
	if err := checkDelegation(actor, g); err != nil {
		return err
	}
	if g.Role == vigil.RolePollWorker && g.NotAfter.IsZero() {
		return vigil.FieldError(op, "not_after", "a poll worker's role must end with the voting period")
	}
	ev, err := u.event(actor, vigil.EventRoleGranted, user, vigil.RoleChange{User: user, Grant: g})
	if err != nil {
		return err
	}
	_, err = u.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// Revoke removes a grant. Errors: NotFound, Permission.
func (u *Users) Revoke(ctx context.Context, actor vigil.Actor, user string, g vigil.Grant) error {
	rec, err := u.Store.UserRecord(ctx, user)
	if err != nil {
		return err
	}
	found := false
	for _, have := range rec.Grants {
		if have.Role == g.Role && have.Scope == g.Scope {
			found = true
		}
	}
	if !found {
		return vigil.Errorf(vigil.NotFound, "role.revoke", "%s does not hold %s in %s", user, g.Role, g.Scope)
	}
	if err := checkDelegation(actor, g); err != nil {
		return err
	}
	ev, err := u.event(actor, vigil.EventRoleRevoked, user, vigil.RoleChange{User: user, Grant: g})
	if err != nil {
		return err
	}
	_, err = u.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// checkDelegation: the actor's scope must contain the grant's scope, and
// only state administrators (or the node operator) grant state-wide admin.
func checkDelegation(actor vigil.Actor, g vigil.Grant) error {
	const op = "role.grant"
	if actor.Role == vigil.RoleOperator || actor.Role == vigil.RoleSystem {
		return nil
	}
	if !actor.Scope.Contains(g.Scope) {
		return vigil.Errorf(vigil.Permission, op, "your scope %s does not contain %s", actor.Scope, g.Scope)
	}
	if g.Role == vigil.RoleStateAdmin && actor.Role != vigil.RoleStateAdmin {
		return vigil.Errorf(vigil.Permission, op, "only a state administrator can grant %s", g.Role)
	}
	return nil
}

// SetDisabled disables or enables an account.
func (u *Users) SetDisabled(ctx context.Context, actor vigil.Actor, user string, disabled bool) error {
	if _, err := u.Store.UserRecord(ctx, user); err != nil {
		return err
	}
	typ := vigil.EventUserEnabled
	if disabled {
		typ = vigil.EventUserDisabled
	}
	ev, err := u.event(actor, typ, user, vigil.UserRef{Name: user})
	if err != nil {
		return err
	}
	_, err = u.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// SetPassword replaces a password.
func (u *Users) SetPassword(ctx context.Context, actor vigil.Actor, user, password string) error {
	if err := CheckPasswordPolicy(password); err != nil {
		return err
	}
	if _, err := u.Store.UserRecord(ctx, user); err != nil {
		return err
	}
	ev, err := u.event(actor, vigil.EventUserPassword, user,
		vigil.PasswordSet{Name: user, PasswordHash: HashPassword(password, u.Argon)})
	if err != nil {
		return err
	}
	_, err = u.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// EnrollMFA stores a TOTP secret after the user proved they hold it with a
// valid code. Errors: Invalid (wrong code).
func (u *Users) EnrollMFA(ctx context.Context, actor vigil.Actor, user, secret, code string) error {
	if !CheckTOTP(code, secret, u.Now()) {
		return vigil.FieldError("mfa.enroll", "code", "the code does not match; check the authenticator's clock and try the next code")
	}
	ev, err := u.event(actor, vigil.EventUserMFAEnrolled, user,
		vigil.MFAEnrolled{Name: user, TOTPSealed: u.Sealer.Seal([]byte(secret))})
	if err != nil {
		return err
	}
	_, err = u.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// Login is the outcome of a successful Authenticate.
type Login struct {
	User vigil.User
	// MFAEnrollRequired: the password was right but the account must enroll
	// TOTP before it can do anything else.
	MFAEnrollRequired bool
}

// ErrMFARequired is returned (Kind Unauthenticated, Field "code") when the
// password is right but a TOTP code is needed.
const mfaField = "code"

// Authenticate checks a password (and TOTP code when the account needs one)
// with throttling per account and per address. Every attempt is an event.
// Errors: Unauthenticated (wrong credentials; the message never says which
// part), TooMany (throttled).
func (u *Users) Authenticate(ctx context.Context, name, password, code, addr string) (Login, error) {
	const op = "login"
	now := u.Now()
	system := vigil.Actor{Name: name, Role: vigil.RoleAnonymous, Scope: vigil.ScopeState, Origin: u.Origin}
	if blocked, until := u.ByAccount.Blocked("u:"+name, now); blocked {
		u.record(ctx, system, vigil.EventLoginFailed, vigil.LoginAttempt{Name: name, Addr: addr, Reason: "throttled (account)"})
		return Login{}, vigil.Errorf(vigil.TooMany, op, "too many failed logins for this account; try again after %s", until.Format("15:04:05"))
	}
	if blocked, until := u.ByAddr.Blocked("a:"+addr, now); blocked {
		u.record(ctx, system, vigil.EventLoginFailed, vigil.LoginAttempt{Name: name, Addr: addr, Reason: "throttled (address)"})
		return Login{}, vigil.Errorf(vigil.TooMany, op, "too many failed logins from this address; try again after %s", until.Format("15:04:05"))
	}
	fail := func(reason string) (Login, error) {
		u.ByAccount.Fail("u:"+name, now)
		u.ByAddr.Fail("a:"+addr, now)
		u.record(ctx, system, vigil.EventLoginFailed, vigil.LoginAttempt{Name: name, Addr: addr, Reason: reason})
		return Login{}, vigil.Errorf(vigil.Unauthenticated, op, "wrong user name, password or code")
	}
	rec, err := u.Store.UserRecord(ctx, name)
	if vigil.ErrorKind(err) == vigil.NotFound {
		CheckPassword(password, dummyHash()) // same cost whether or not the account exists
		return fail("unknown account")
	}
	if err != nil {
		return Login{}, err
	}
	if !CheckPassword(password, rec.PasswordHash) {
		return fail("wrong password")
	}
	if rec.Disabled {
		return fail("account disabled")
	}
	login := Login{User: rec.User}
	if !u.NoMFA && NeedsMFA(rec.Grants) {
		if !rec.MFA {
			login.MFAEnrollRequired = true
		} else {
			if code == "" {
				return Login{}, &vigil.Error{Op: op, Kind: vigil.Unauthenticated, Field: mfaField, Message: "enter the 6-digit code from your authenticator"}
			}
			secret, err := u.Sealer.Open(rec.TOTPSealed)
			if err != nil {
				return Login{}, vigil.Wrap(op, vigil.Other, err)
			}
			if !CheckTOTP(code, string(secret), now) {
				return fail("wrong TOTP code")
			}
		}
	}
	u.ByAccount.Reset("u:" + name)
	actor := vigil.Actor{Name: name, Role: primaryRole(rec.Grants), Scope: primaryScope(rec.Grants), Origin: u.Origin}
	u.record(ctx, actor, vigil.EventLoginSucceeded, vigil.LoginAttempt{Name: name, Addr: addr})
	return login, nil
}

func (u *Users) record(ctx context.Context, actor vigil.Actor, typ vigil.EventType, payload any) {
	ev, err := u.event(actor, typ, actor.Name, payload)
	if err == nil {
		u.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	}
}

// dummyHash keeps the timing of unknown accounts like that of known ones.
var dummyHash = sync.OnceValue(func() string { return HashPassword("vigil-dummy-password", DefaultArgon2) })

func primaryRole(gs []vigil.Grant) vigil.Role {
	if len(gs) == 0 {
		return vigil.RoleAnonymous
	}
	return gs[0].Role
}

func primaryScope(gs []vigil.Grant) vigil.Scope {
	if len(gs) == 0 {
		return vigil.ScopeState
	}
	return gs[0].Scope
}

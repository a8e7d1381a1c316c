package vigil

import (
	"errors"
	"fmt"
)

// Kind classifies an error so that the edges (HTTP status, CLI exit code)
// can answer without knowing where the error came from.
//
// The list is append-only: a Kind's value never changes meaning.
type Kind uint8

const (
	Other           Kind = iota // an unexpected failure; details are logged, never shown
	Invalid                     // the request or input is malformed; the message names the field
	NotFound                    // the named thing does not exist (or is not visible to the caller)
	Conflict                    // the change contradicts the current state (e.g. already checked in)
	Permission                  // the caller's role or scope does not allow the action
	Unauthenticated             // no valid session or credentials
	Unavailable                 // a dependency is down or not ready; retrying later may work
	Integrity                   // stored data failed verification: tampering or corruption
	TooMany                     // throttled; retry after a pause
)

var kindNames = [...]string{
	Other:           "internal",
	Invalid:         "invalid",
	NotFound:        "not_found",
	Conflict:        "conflict",
	Permission:      "permission",
	Unauthenticated: "unauthenticated",
	Unavailable:     "unavailable",
	Integrity:       "integrity",
	TooMany:         "too_many",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is the one error type of vigil. Op names the operation that failed
// ("voters.import"), Kind classifies it, Field names the offending input
// field when there is one, and Err carries the cause.
//
// Message is what a user is shown. It must say what to do and must never
// contain secrets or internal details; those belong in Err, which is logged.
type Error struct {
	Op      string
	Kind    Kind
	Field   string
	Message string
	Err     error
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Op != "" {
		return e.Op + ": " + msg
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted user-facing message.
func Errorf(kind Kind, op, format string, args ...any) *Error {
	return &Error{Op: op, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an Invalid error about one input field.
func FieldError(op, field, format string, args ...any) *Error {
	return &Error{Op: op, Kind: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches op and kind to err unless err already carries a kind.
func Wrap(op string, kind Kind, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Op: op, Kind: kind, Err: err}
}

// ErrorKind returns the Kind of err, or Other if it has none.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Other
}

// ErrorMessage returns the part of err that is safe to show a user.
// Errors without a Kind are internal and shown as a generic message.
func ErrorMessage(err error) string {
	var e *Error
	if !errors.As(err, &e) || e.Kind == Other {
		return "internal error; the details are in the server log"
	}
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	return msg
}

// ErrorField returns the input field named by err, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

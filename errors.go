package recstore

import (
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors. Callers branch on them with [errors.Is]; the typed errors
// below carry the details and match their family sentinel.
var (
	// ErrInvalidDocument is matched by every error that rejects a pushed
	// document: every *DocumentError, and so every syntax, attribute and
	// limit error inside one.
	ErrInvalidDocument = errors.New("recstore: invalid document")

	// ErrUnknownType reports a resource or linkage whose type has no model
	// registered in the Store. It is wrapped in a *DocumentError when it comes
	// from a document.
	ErrUnknownType = errors.New("recstore: unknown type")

	// ErrInvalidAttribute is matched by every *AttributeError: a value that
	// cannot be stored in the model's field.
	ErrInvalidAttribute = errors.New("recstore: invalid attribute value")

	// ErrLimit is matched by every *LimitError: a document larger, deeper or
	// with more resources than the Store's Options allow.
	ErrLimit = errors.New("recstore: document exceeds a limit")

	// ErrSyntax is matched by every *SyntaxError: input that is not JSON.
	ErrSyntax = errors.New("recstore: malformed JSON")

	// ErrInvalidModel is matched by every *ModelError: a Go type that cannot
	// be registered as a model.
	ErrInvalidModel = errors.New("recstore: invalid model")

	// ErrNotLoaded reports a record the Store does not hold: one asked for
	// by key, or one a relationship names but no push has loaded.
	ErrNotLoaded = errors.New("recstore: record not loaded")

	// ErrNotFound reports a record the backend does not have: an Adapter
	// returns an error wrapping it, and Find also reports it when the
	// response holds no record.
	ErrNotFound = errors.New("recstore: record not found")

	// ErrNoAdapter reports a call that must ask a backend, for a type with
	// no Adapter.
	ErrNoAdapter = errors.New("recstore: no adapter")

	// ErrNotSupported reports a call the type's Adapter has no capability
	// for, such as FindAll without an AllFinder.
	ErrNotSupported = errors.New("recstore: adapter does not support this call")

	// ErrWrongRecord reports a response to Find whose record is not the
	// one asked for. Nothing of it is pushed.
	ErrWrongRecord = errors.New("recstore: response is for another record")

	// ErrClosed reports a call that would ask a backend after Close.
	ErrClosed = errors.New("recstore: store closed")

	// ErrPanic is matched by every *PanicError: user code (an Adapter, a
	// hook, a serializer, a transform) panicked on a goroutine the Store
	// owns, and the Store recovered.
	ErrPanic = errors.New("recstore: user code panicked")

	// ErrDuplicateMember is matched by every error that rejects a document
	// because one of its objects repeats a member name. It comes wrapped
	// in a *SyntaxError inside a *DocumentError whose Pointer names the
	// repeated member.
	ErrDuplicateMember = errors.New("recstore: repeated member name")

	// ErrUnknownRelationship reports a relationship name that the
	// record's model does not define, given to a call such as
	// [Store.LoadRelated].
	ErrUnknownRelationship = errors.New("recstore: unknown relationship")
)

// A PanicError carries a panic the Store recovered on a goroutine of its
// own: in a Find's adapter call (which every caller of the record shares),
// a background reload, a coalesced batch. Every caller waiting on that
// work gets the same *PanicError; a background one goes to
// Options.OnBackgroundError. A panic on the caller's own goroutine is not
// recovered: it reaches the caller as any panic does, after the Store has
// undone what the call had begun.
//
// Op names the user code that panicked ("FindRecord", "OnBackgroundError",
// ...), or is "PushPayload" for code run while the Store pushed an
// adapter's answer (the Serializer and its hooks, a Transform, a
// json.Unmarshaler, the Logger's handler). Value is what was passed to
// panic, or an error saying so for user code that called runtime.Goexit.
// Stack is the panicking goroutine's stack. errors.Is matches ErrPanic,
// and errors.As sees through to Value when it is an error.
type PanicError struct {
	Op    string
	Value any
	Stack []byte
}

// newPanicError captures the current goroutine's stack; call it from the
// deferred function that recovered v.
func newPanicError(op string, v any) *PanicError {
	return &PanicError{Op: op, Value: v, Stack: debug.Stack()}
}

// Error names the panicking call and the panic value; the stack is in Stack.
func (e *PanicError) Error() string {
	v := shortText(fmt.Sprint(e.Value), maxErrText)
	if e.Op == "" {
		return "recstore: panic: " + v
	}
	return "recstore: panic in " + e.Op + ": " + v
}

// Unwrap returns Value when it is an error, so that a panic(err) still
// matches err.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Is reports whether target is ErrPanic.
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// An AdapterError reports a failed call to an Adapter: Op is the Adapter
// method ("FindRecord", "FindAll", ...), Type and ID what it was asked for
// (ID is empty for calls about a type). Err is the Adapter's error, or
// the reason the Store rejected its response, such as a *DocumentError.
// errors.Is and errors.As see through it to Err.
type AdapterError struct {
	Op   string
	Type string
	ID   string
	Err  error
}

// Error describes the failed call and its cause.
func (e *AdapterError) Error() string {
	what := e.Type
	if e.ID != "" {
		what += ":" + e.ID
	}
	return fmt.Sprintf("recstore: %s %s: %s", e.Op, what, errText(e.Err))
}

// Unwrap returns Err.
func (e *AdapterError) Unwrap() error { return e.Err }

// A DocumentError rejects a pushed document. Pointer is a JSON pointer
// (RFC 6901) to the offending member, such as "/data/3/id", as used by
// JSON:API's source.pointer; it is empty when the document as a whole is at
// fault. Err says what is wrong and may itself be a *SyntaxError,
// *AttributeError or *LimitError, or wrap ErrUnknownType.
//
// Every *DocumentError matches ErrInvalidDocument with [errors.Is]. A push
// that returns one has changed nothing in the Store.
type DocumentError struct {
	Pointer string
	Err     error
}

// Error describes the problem in one line.
func (e *DocumentError) Error() string {
	if e.Pointer == "" {
		return "recstore: invalid document: " + errText(e.Err)
	}
	return "recstore: invalid document at " + e.Pointer + ": " + errText(e.Err)
}

// Unwrap returns the underlying cause.
func (e *DocumentError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidDocument.
func (e *DocumentError) Is(target error) bool { return target == ErrInvalidDocument }

// maxErrText caps the text an error message quotes from a document, a
// backend's answer or a user's error, in bytes: a message must stay one
// line a log can hold, whatever the input held.
const maxErrText = 512

// shortText cuts s to at most max bytes, on a rune boundary, marking the
// cut with "...", and replaces control characters (a terminal's escape
// sequences, newlines) with U+FFFD.
func shortText(s string, max int) string {
	if len(s) > max {
		n := max - len("...")
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "..."
	}
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, s)
}

// errText strips our own "recstore: " prefix from nested errors so that a
// chain reads as one sentence.
func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	s := err.Error()
	const p = "recstore: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// A SyntaxError reports input that is not well-formed JSON, or JSON that
// breaks I-JSON's rule (RFC 7493) that an object's member names are unique.
// Offset is the byte offset in the document at which the problem was found.
// Err is ErrDuplicateMember for a repeated member name, nil otherwise.
type SyntaxError struct {
	Offset int64
	Msg    string
	Err    error
}

// Error describes the problem in one line.
func (e *SyntaxError) Error() string {
	return "recstore: malformed JSON at offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Msg
}

// Is reports whether target is ErrSyntax.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

// Unwrap returns Err.
func (e *SyntaxError) Unwrap() error { return e.Err }

// An AttributeError reports a JSON value that cannot be stored in a model's
// field: a string for an int field, an integer that overflows its field, a
// date that does not parse. Value is the offending JSON text (cut to 64
// bytes). It matches ErrInvalidAttribute.
type AttributeError struct {
	Type   string       // the model's type name, e.g. "album"
	ID     string       // the resource id, when known
	Attr   string       // the attribute's member name, e.g. "songCount"
	Value  string       // the JSON text that was rejected
	GoType reflect.Type // the field's Go type
	Err    error        // the underlying cause, if any
}

// Error describes the problem in one line.
func (e *AttributeError) Error() string {
	msg := fmt.Sprintf("recstore: cannot store %s in %s.%s (Go type %s)", e.Value, e.Type, e.Attr, e.GoType)
	if e.Err != nil {
		// Err may quote the whole value (a json.Unmarshaler's error does).
		msg += ": " + shortText(errText(e.Err), maxErrText)
	}
	return msg
}

// Unwrap returns the underlying cause.
func (e *AttributeError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidAttribute.
func (e *AttributeError) Is(target error) bool { return target == ErrInvalidAttribute }

// A LimitError reports a document that exceeds one of the limits in
// [Options]. Limit names the option ("MaxDocumentBytes", "MaxDepth",
// "MaxResources" or "MaxIDBytes") and Max its value. It matches ErrLimit.
type LimitError struct {
	Limit string
	Max   int
}

// Error describes the problem in one line.
func (e *LimitError) Error() string {
	return "recstore: document over the " + e.Limit + " limit (" + strconv.Itoa(e.Max) + ")"
}

// Is reports whether target is ErrLimit.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// A ModelError reports a Go type that [Register] cannot accept: not a
// struct, no or two primary fields, an unsupported field kind, a malformed
// tag, a duplicate type or member name. Field is the Go field at fault, if
// any. It matches ErrInvalidModel.
type ModelError struct {
	GoType reflect.Type
	Field  string
	Msg    string
}

// Error describes the problem in one line.
func (e *ModelError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("recstore: invalid model %v: %s", e.GoType, e.Msg)
	}
	return fmt.Sprintf("recstore: invalid model %v, field %s: %s", e.GoType, e.Field, e.Msg)
}

// Is reports whether target is ErrInvalidModel.
func (e *ModelError) Is(target error) bool { return target == ErrInvalidModel }

// An ErrorObject is one JSON:API error object, as a backend reports why it
// rejected a request.
type ErrorObject struct {
	ID     string         `json:"id,omitempty"`     // this occurrence of the problem
	Status string         `json:"status,omitempty"` // the HTTP status, as a string
	Code   string         `json:"code,omitempty"`   // the backend's own error code
	Title  string         `json:"title,omitempty"`  // a short summary, the same for every occurrence
	Detail string         `json:"detail,omitempty"` // what went wrong this time
	Source *ErrorSource   `json:"source,omitempty"` // the part of the request at fault
	Meta   map[string]any `json:"meta,omitempty"`
}

// ErrorSource says which part of a request an ErrorObject is about.
type ErrorSource struct {
	// Pointer is a JSON pointer into the request document, such as
	// "/data/attributes/title".
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"` // a query parameter at fault
	Header    string `json:"header,omitempty"`    // a request header at fault
}

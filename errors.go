package recstore

import (
	"errors"
	"fmt"
	"net/http"
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

	// ErrPageLoop matches a walk through a collection's pages that stopped
	// because a next link led back to a page already walked (see
	// PageLoopError).
	ErrPageLoop = errors.New("recstore: pagination loops")

	// ErrLossyCoercion is matched by the error of a Strict serializer that
	// met a value it could only coerce with a loss (see
	// [ReportLossyCoercion]). It comes inside an *AttributeError, itself
	// inside a *DocumentError pointing at the payload's member.
	ErrLossyCoercion = errors.New("recstore: lossy coercion")

	// ErrUnknownTransform reports an attribute naming a transform that the
	// serializer reading or writing it does not have. It comes inside an
	// *AttributeError, so it also matches ErrInvalidAttribute.
	ErrUnknownTransform = errors.New("recstore: unknown transform")

	// ErrNotSerializable reports a [Store.Serialize] call for a type whose
	// serializer is not a RecordSerializer.
	ErrNotSerializable = errors.New("recstore: serializer cannot serialize records")

	// ErrUnknownRelationship reports a relationship name that the
	// record's model does not define, given to a call such as
	// [Store.LoadRelated].
	ErrUnknownRelationship = errors.New("recstore: unknown relationship")

	// ErrUnknownAttribute reports an attribute name that the record's
	// model does not define, given to a call such as [Store.SetAttr].
	ErrUnknownAttribute = errors.New("recstore: unknown attribute")

	// ErrIDInUse reports a Create with an id the Store already holds a
	// record under, or a backend assigning a new record an id another
	// record has.
	ErrIDInUse = errors.New("recstore: id already in use")

	// ErrSaving reports a call that cannot be made while a save of the
	// record is in flight, such as Unload.
	ErrSaving = errors.New("recstore: record is being saved")

	// ErrDeleted reports an edit of a record whose deletion was saved.
	ErrDeleted = errors.New("recstore: record is deleted")
	// ErrChanged reports a record with local changes (created, edited or
	// deleted, not saved) that Store.UnloadUnchanged left in place.
	ErrChanged = errors.New("recstore: record has local changes")

	// ErrReadOnlyID reports an edit that changes a record's primary
	// field: a record's id is the backend's to give, once.
	ErrReadOnlyID = errors.New("recstore: the id of a record cannot be edited")
)

// Status sentinels: the kinds of refusal a backend answers with. Any
// adapter reports a refusal as a *BackendError (HTTPAdapter and
// RESTAdapter as an *HTTPError, which is one to errors.As), and every
// *BackendError and every *HTTPError with a status matches the sentinel
// for its status: these, or ErrNotFound for a 404. A status with no
// sentinel (a 418, a 429) matches none of them.
var (
	// ErrInvalid matches a 400 or 422: the backend rejected the request
	// as invalid. Its error objects, read with [Store.ExtractErrors], say
	// which attributes are at fault.
	ErrInvalid = errors.New("recstore: the backend rejected the request as invalid")

	// ErrUnauthorized matches a 401.
	ErrUnauthorized = errors.New("recstore: unauthorized")

	// ErrForbidden matches a 403.
	ErrForbidden = errors.New("recstore: forbidden")

	// ErrConflict matches a 409.
	ErrConflict = errors.New("recstore: conflict")

	// ErrServer matches any 5xx status.
	ErrServer = errors.New("recstore: server error")
)

// Errors of requests that got no usable answer. HTTPAdapter and
// RESTAdapter report them as an *HTTPError with Status 0 whose Err wraps
// one of them; an adapter of another kind may wrap them too.
var (
	// ErrTimeout matches a request whose context deadline passed or whose
	// connection timed out.
	ErrTimeout = errors.New("recstore: request timed out")

	// ErrAborted matches a request cancelled by its context, or cut off
	// by the connection (refused, reset, closed mid-body).
	ErrAborted = errors.New("recstore: request aborted")

	// ErrBadResponse matches a response the adapter cannot use: the wrong
	// content type, or a body over the size limit. The Store also reports
	// it for a Find or QueryRecord answer whose primary data is an array.
	ErrBadResponse = errors.New("recstore: unusable response")

	// ErrCrossOriginRedirect matches a request the backend redirected to
	// another origin (scheme, host or port) that HTTPAdapter.RedirectOrigins
	// does not list. The redirect is not followed, so nothing reaches that
	// origin and nothing from it is pushed.
	ErrCrossOriginRedirect = errors.New("recstore: redirect to another origin refused")

	// ErrCrossOriginLink matches a link the backend sent (a related or
	// pagination link) that leads to another origin than Host's, which
	// HTTPAdapter.RedirectOrigins does not list. Nothing is sent there.
	ErrCrossOriginLink = errors.New("recstore: link to another origin refused")
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
	Op    string // the user code that panicked, or "PushPayload"
	Value any    // what was passed to panic
	Stack []byte // the panicking goroutine's stack
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
	Op   string // the Adapter method: "FindRecord", "FindAll", "Query", "FindLink", ...
	Type string // the type asked for
	ID   string // the id asked for; empty for calls about a type
	Err  error  // the Adapter's error, or why the Store rejected its response
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

// A PageLoopError reports a next link that leads back to a page walked
// already: resolved (RFC 3986) against the URL of the page that sent it,
// it names the URL of an earlier page, either the link that loaded that
// page or its self link. Two links name one page when they resolve to one
// URL, whatever their fragments, the case of their hosts, the escaping of
// their query parameters and the order of different ones (one parameter's
// values keep theirs). The first page, which Query
// asked for through the Adapter, is known by its self link only. Following
// the link would walk the same pages for ever, so the walk stops before
// asking for it. It matches ErrPageLoop.
type PageLoopError struct {
	// Type is the collection's type.
	Type string
	// Link is the next link, as the backend sent it.
	Link string
}

// Error names the type and the link.
func (e *PageLoopError) Error() string {
	return fmt.Sprintf("recstore: %s pages: next link %q leads back to a page already walked", e.Type, shortText(e.Link, maxErrText))
}

// Is reports whether target is ErrPageLoop.
func (e *PageLoopError) Is(target error) bool { return target == ErrPageLoop }

// A DocumentError rejects a pushed document. Pointer is a JSON pointer
// (RFC 6901) to the offending member, such as "/data/3/id", as used by
// JSON:API's source.pointer; it is empty when the document as a whole is at
// fault. Err says what is wrong and may itself be a *SyntaxError,
// *AttributeError or *LimitError, or wrap ErrUnknownType.
//
// Every *DocumentError matches ErrInvalidDocument with [errors.Is]. A push
// that returns one has changed nothing in the Store.
type DocumentError struct {
	Pointer string // a JSON pointer to the member at fault; empty for the whole document
	Err     error  // what is wrong
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
	Offset int64  // the byte offset in the document where the problem was found
	Msg    string // what is wrong, in a few words
	Err    error  // ErrDuplicateMember, or nil
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
// "MaxResources", "MaxLinkages" or "MaxIDBytes") and Max its value. It
// matches ErrLimit.
type LimitError struct {
	Limit string // the option's name, such as "MaxDepth"
	Max   int    // the option's value
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
	GoType reflect.Type // the type Register was given
	Field  string       // the Go field at fault; empty when no one field is
	Msg    string       // what is wrong
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
	Meta   map[string]any `json:"meta,omitempty"`   // anything else the backend says about it
}

// ErrorSource says which part of a request an ErrorObject is about.
type ErrorSource struct {
	// Pointer is a JSON pointer into the request document, such as
	// "/data/attributes/title".
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"` // a query parameter at fault
	Header    string `json:"header,omitempty"`    // a request header at fault
}

// ErrNoMatch reports a QueryRecord whose answer was a success with null
// data: the backend found no record matching the query. errors.Is
// matches it to ErrNotFound too, so code that treats both alike needs no
// change, but its text does not say "record not found", and ErrNotFound
// does not match ErrNoMatch: test for ErrNoMatch to tell "nothing
// matched" from a 404.
var ErrNoMatch error = noMatchError{}

// noMatchError is ErrNoMatch: its own text, matching ErrNotFound.
type noMatchError struct{}

func (noMatchError) Error() string { return "recstore: no record matches the query" }

// Is makes errors.Is(ErrNoMatch, ErrNotFound) true.
func (noMatchError) Is(target error) bool { return target == ErrNotFound }

// A BackendError reports a request a backend refused, from an adapter of
// any kind (recstoretest's MemoryAdapter, a gRPC or SQL adapter of your
// own). Status is the HTTP status that says what kind of refusal it is
// (404 for a missing record, 422 for an invalid one, ...), and Errors the
// JSON:API error objects that say why, which [Store.ExtractErrors] maps to
// attribute names. Err, if not nil, is the underlying cause.
//
// It matches the sentinel an *HTTPError of the same status matches:
// ErrInvalid (400, 422), ErrUnauthorized (401), ErrForbidden (403),
// ErrNotFound (404), ErrConflict (409) or ErrServer (5xx); and errors.Is
// and errors.As see through it to Err. An *HTTPError with a status is
// also a *BackendError to errors.As, so code that reads a refusal's
// status and error objects works the same whatever the adapter.
type BackendError struct {
	// Status is the HTTP status of the refusal, such as 404 or 422, even
	// from an adapter that does not speak HTTP; 0 if it has none.
	Status int
	// Errors are the JSON:API error objects the backend sent, if any.
	Errors []ErrorObject
	// Err is the underlying cause, or nil.
	Err error
}

// Error gives the status and what the backend said, in one line.
func (e *BackendError) Error() string {
	msg := "recstore: backend refused the request"
	if e.Status != 0 {
		msg = "recstore: backend returned " + strconv.Itoa(e.Status)
	}
	switch {
	case len(e.Errors) > 0 && e.Errors[0].Detail != "":
		// The backend wrote these: keep the message one short line.
		msg += ": " + shortText(e.Errors[0].Detail, maxErrText)
	case len(e.Errors) > 0 && e.Errors[0].Title != "":
		msg += ": " + shortText(e.Errors[0].Title, maxErrText)
	case e.Err != nil:
		msg += ": " + errText(e.Err)
	}
	return msg
}

// Unwrap returns Err.
func (e *BackendError) Unwrap() error { return e.Err }

// Is matches the sentinel for e's status.
func (e *BackendError) Is(target error) bool { return statusIs(e.Status, target) }

// An HTTPError reports a request that failed: a response with an error
// status (Status > 0), or no usable response at all (Status 0, with Err
// saying why: a timeout, an abort, a bad response, a refused redirect, a
// request the adapter cannot make). Errors holds the
// JSON:API error objects the backend sent, or one made from its body. It
// matches ErrInvalid, ErrUnauthorized, ErrForbidden, ErrNotFound,
// ErrConflict or ErrServer by status, and Err's family otherwise. One
// with a status is also a *BackendError to errors.As.
type HTTPError struct {
	// Method is the request's HTTP method, such as "GET" or "PATCH".
	Method string
	// URL is the request's URL as sent, after Prepare (which may rewrite
	// it), with any password in it masked; a redirect's target is not
	// reported here. A request never sent reports the URL it had when it
	// failed: as Prepare left it, else as the adapter built it.
	URL string
	// Status is the response's HTTP status, such as 404 or 422; 0 when
	// there was no usable response (see Err).
	Status int
	// Errors are the JSON:API error objects the backend sent with an
	// error status, or one made from a body that held none; nil when
	// Status is 0.
	Errors []ErrorObject
	// Err says why there was no usable response (wrapping ErrTimeout,
	// ErrAborted, ErrBadResponse, ErrCrossOriginRedirect,
	// ErrCrossOriginLink, ...) when Status is 0; nil otherwise.
	Err error
}

// Error describes the request and what went wrong.
func (e *HTTPError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("recstore: %s %s: %s", e.Method, e.URL, errText(e.Err))
	}
	msg := fmt.Sprintf("recstore: %s %s returned %d", e.Method, e.URL, e.Status)
	if len(e.Errors) > 0 {
		// The backend wrote these: keep the message one short line.
		if d := e.Errors[0].Detail; d != "" {
			msg += ": " + shortText(d, maxErrText)
		} else if t := e.Errors[0].Title; t != "" {
			msg += ": " + shortText(t, maxErrText)
		}
	}
	return msg
}

// Unwrap returns Err.
func (e *HTTPError) Unwrap() error { return e.Err }

// Is matches the sentinel for e's status, as [BackendError.Is] does.
func (e *HTTPError) Is(target error) bool { return statusIs(e.Status, target) }

// As makes an *HTTPError with a status readable as a *BackendError, with
// the same Status, Errors and Err: the fields any adapter's refusal has.
func (e *HTTPError) As(target any) bool {
	be, ok := target.(**BackendError)
	if !ok || e.Status == 0 {
		return false
	}
	*be = &BackendError{Status: e.Status, Errors: e.Errors, Err: e.Err}
	return true
}

// statusIs reports whether target is the sentinel for an error status,
// the one mapping *HTTPError and *BackendError share. Status 0 (no answer)
// and statuses with no sentinel match none.
func statusIs(status int, target error) bool {
	switch status {
	case 0:
		return false
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return target == ErrInvalid
	case http.StatusUnauthorized:
		return target == ErrUnauthorized
	case http.StatusForbidden:
		return target == ErrForbidden
	case http.StatusNotFound:
		return target == ErrNotFound
	case http.StatusConflict:
		return target == ErrConflict
	}
	return status >= 500 && target == ErrServer
}

// Errors of Dump and Restore.
var (
	// ErrBadSnapshot is matched by every *SnapshotError: input Restore
	// cannot read as a snapshot, such as one truncated or corrupted, or
	// written in another format version.
	ErrBadSnapshot = errors.New("recstore: bad snapshot")

	// ErrSnapshotMismatch reports a snapshot that is well formed but does
	// not fit the Store's models: a type with no model (the error wraps
	// ErrUnknownType too), an attribute whose Go type changed codec (say,
	// from string to int), a relationship that changed between to-one and
	// to-many, or a value its attribute's type can no longer hold.
	ErrSnapshotMismatch = errors.New("recstore: snapshot does not fit the models")

	// ErrNotEmpty reports a Restore into a Store that holds records, or
	// relationship state of records it knows only by reference.
	ErrNotEmpty = errors.New("recstore: store is not empty")
)

// A SnapshotError reports input that Restore cannot read as a snapshot.
// It matches ErrBadSnapshot.
type SnapshotError struct {
	Offset int64 // the byte offset in the input where the problem was found
	Err    error // what is wrong; io.ErrUnexpectedEOF for a truncated snapshot
}

// Error describes the problem and where it is.
func (e *SnapshotError) Error() string {
	return fmt.Sprintf("recstore: bad snapshot at byte %d: %s", e.Offset, errText(e.Err))
}

// Unwrap returns what is wrong.
func (e *SnapshotError) Unwrap() error { return e.Err }

// Is reports whether target is ErrBadSnapshot.
func (e *SnapshotError) Is(target error) bool { return target == ErrBadSnapshot }

package recstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/recstore/recstore/inflect"
)

// DefaultMaxResponseBytes is the response size limit of an HTTPAdapter
// whose MaxResponseBytes is not set.
const DefaultMaxResponseBytes = 16 << 20

// HTTPAdapter is an Adapter for a JSON:API backend over net/http, as Ember
// Data's JSONAPIAdapter: GET /albums/1?include=label, GET /albums,
// GET /albums?filter[id]=1,2, GET /albums?{query}, POST /albums,
// PATCH /albums/1, DELETE /albums/1, with application/vnd.api+json. Ids
// are escaped as one path segment each, "." and ".." included. Redirects
// are followed only within the request's origin unless RedirectOrigins
// says otherwise, so the app's headers never reach another. Its zero
// value needs only Host. It is safe for concurrent use; do not change its
// fields once in use.
type HTTPAdapter struct {
	// Host is the backend's scheme and host, such as
	// "https://api.example.com".
	Host string
	// Namespace is a path prefix for every request, such as "api/v1".
	Namespace string
	// Client sends the requests; nil means http.DefaultClient. It is never
	// modified: each request goes through a copy whose CheckRedirect
	// applies RedirectOrigins before calling Client's own.
	Client *http.Client
	// Header is added to every request.
	Header http.Header
	// Prepare, if not nil, is called with each request before it is sent,
	// to add per-request headers such as a fresh token. An error fails
	// the call.
	Prepare func(*http.Request) error
	// PathForType maps a model type to its path segment; nil means
	// pluralized with the Store's inflection rules (or Inflector) and
	// dasherized ("github-handle" → "github-handles"). A path of "" adds
	// no segment (/api/1).
	PathForType func(typ string) string
	// MaxResponseBytes caps a response body; <= 0 means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// MaxURLLength caps the URLs of coalesced FindMany calls, which
	// GroupForFindMany splits to fit; <= 0 means 2048.
	MaxURLLength int
	// RedirectOrigins lists the other origins, such as
	// "https://cdn.example.com" (scheme, host and port; a scheme's default
	// port may be left out), that a redirect may lead to. A request
	// redirected there carries none of the app's headers (Header, what
	// Prepare set, Authorization, Cookie, the Client's Jar cookies, the
	// Referer): only Accept, and Content-Type with a body. A
	// Client.Transport that adds credentials itself (such as an oauth2
	// one) still adds them: list only origins it may send them to. Its
	// answer is used as the backend's. Nil means redirects are followed
	// only within the origin of the request (Host's, or what Prepare made
	// it); any other fails with ErrCrossOriginRedirect before a request
	// is sent.
	// The Client's own CheckRedirect, if any, is called after these checks.
	RedirectOrigins []string
	// URLForFindMany, if not nil, builds the URL of a FindMany call, as
	// Ember Data's urlForFindMany does, for servers that take several ids
	// in another form than filter[id]=1,2 (or REST's ids[]=1&ids[]=2):
	// [CommaIDsURL] builds /albums/1,2. It is given base, the URL of typ's
	// collection (Host, Namespace and PathForType, with no query, such as
	// "https://api.example.com/api/albums"), and the ids, which it must
	// escape itself and must not keep or modify. A request's Include is
	// added to the URL it returns as include=a,b. GroupForFindMany calls
	// it to measure candidate groups against MaxURLLength, so it must be
	// cheap and have no side effects, and a group with more ids must not
	// give a shorter URL: GroupForFindMany searches for each group's size
	// (O(log n) calls per group), so a hook that breaks this gets groups
	// that fit, but not always the largest. FindMany never calls it with
	// no ids or an empty one. nil means filter[id] (REST: ids[]).
	URLForFindMany func(base, typ string, ids []string) string
	// Inflector, if not nil, overrides the rules the default PathForType
	// pluralizes types with. Leave it nil and set the Store's
	// Options.Inflector: on the requests a Store makes, and when it
	// groups ids for FindMany, the adapter uses that Store's own copy of
	// those rules, so a word the app added there ("cactus" → "cacti")
	// names the same collection in paths as in payloads, and words added
	// after New reach neither. An Inflector that is the very Rules given
	// to the Store's Options.Inflector stands for the Store's copy too.
	// Any other Inflector is used as it is, on every request: add its
	// words before the adapter is first used, and not after (inflect.Rules
	// are safe for concurrent use, so that would change paths midway, not
	// race). Outside a Store (a Request made elsewhere, a direct
	// GroupForFindMany call) nil means inflect.English().
	Inflector *inflect.Rules

	rest bool // RESTAdapter's flavour
}

// CommaIDsURL is an [HTTPAdapter.URLForFindMany] for servers that take
// several ids as one path segment, joined by commas: GET /albums/1,2.
// Each id is escaped as a path segment, "." and ".." and commas included
// (a%2Cb); as servers may decode the path before splitting it,
// GroupForFindMany still gives an id holding a comma a group of its own,
// which the Store finds with FindRecord. With no ids, or an empty one, it
// would name the collection (/albums/) or a wrong path: FindMany refuses
// such a call before calling it.
func CommaIDsURL(base, typ string, ids []string) string {
	var b strings.Builder
	b.WriteString(base)
	b.WriteByte('/')
	for i, id := range ids {
		if i > 0 {
			b.WriteString(idSep)
		}
		b.WriteString(escapeSegment(id))
	}
	return b.String()
}

// RESTAdapter is an Adapter for a REST backend over net/http, as Ember
// Data's RESTAdapter: like HTTPAdapter, but with camelized plural paths
// ("github-handle" → "githubHandles"), GET /albums?ids[]=1&ids[]=2 for
// several records, PUT for updates, and application/json. Pair it with a
// RESTSerializer. It is configured through its HTTPAdapter:
//
//	&recstore.RESTAdapter{HTTPAdapter: recstore.HTTPAdapter{Host: "https://api.example.com"}}
type RESTAdapter struct {
	HTTPAdapter
}

var (
	_ Adapter       = (*HTTPAdapter)(nil)
	_ AllFinder     = (*HTTPAdapter)(nil)
	_ ManyFinder    = (*HTTPAdapter)(nil)
	_ Querier       = (*HTTPAdapter)(nil)
	_ RecordQuerier = (*HTTPAdapter)(nil)
	_ Creator       = (*HTTPAdapter)(nil)
	_ Updater       = (*HTTPAdapter)(nil)
	_ Deleter       = (*HTTPAdapter)(nil)
	_ ManyGrouper   = (*HTTPAdapter)(nil)
	_ Adapter       = (*RESTAdapter)(nil)
	_ ManyGrouper   = (*RESTAdapter)(nil)
	_ ManyFinder    = (*RESTAdapter)(nil)
	_ Updater       = (*RESTAdapter)(nil)
)

// FindRecord gets the record req.Type/req.ID, with req.Include.
func (a *HTTPAdapter) FindRecord(ctx context.Context, req *Request) ([]byte, error) {
	rules := a.rules(req.store)
	if req.ID == "" {
		return nil, a.noID(http.MethodGet, req.Type, rules)
	}
	return a.do(ctx, req, http.MethodGet, a.url(req.Type, req.ID, a.includeQuery(req.Include, nil), rules), nil)
}

// FindAll gets every record of req.Type, with req.Include.
func (a *HTTPAdapter) FindAll(ctx context.Context, req *Request) ([]byte, error) {
	return a.do(ctx, req, http.MethodGet, a.url(req.Type, "", a.includeQuery(req.Include, nil), a.rules(req.store)), nil)
}

// FindMany gets the records req.IDs of req.Type with one request:
// filter[id]=1,2 for JSON:API, ids[]=1&ids[]=2 for REST, or the URL
// URLForFindMany builds. An id holding a comma cannot be sent in
// filter[id], where it would read as two ids; the JSON:API flavour
// refuses it with ErrNotSupported (with URLForFindMany, the hook decides),
// and GroupForFindMany puts such an id in a group of its own, which the
// Store finds with FindRecord.
//
// A call with no ids, or with an empty id, sends nothing: its URL would
// name the whole collection, as FindAll's does. It fails with an
// *HTTPError (status 0) wrapping ErrNotFound, as FindRecord does for an
// empty id. The Store never makes such a call, as Ember Data never calls
// findMany without ids.
func (a *HTTPAdapter) FindMany(ctx context.Context, req *Request) ([]byte, error) {
	rules := a.rules(req.store)
	if len(req.IDs) == 0 {
		return nil, &HTTPError{Method: http.MethodGet, URL: redactURL(a.url(req.Type, "", nil, rules)),
			Err: fmt.Errorf("%w: FindMany without ids", ErrNotFound)}
	}
	if slices.Contains(req.IDs, "") {
		return nil, a.noID(http.MethodGet, req.Type, rules)
	}
	if a.URLForFindMany != nil {
		return a.do(ctx, req, http.MethodGet, a.hookURL(req.Type, req.IDs, req.Include, rules), nil)
	}
	q := url.Values{}
	if a.rest {
		q["ids[]"] = slices.Clone(req.IDs)
	} else {
		for _, id := range req.IDs {
			if strings.Contains(id, idSep) {
				return nil, &HTTPError{Method: http.MethodGet, URL: redactURL(a.url(req.Type, "", nil, rules)),
					Err: fmt.Errorf("%w: id %q holds the filter[id] separator %q", ErrNotSupported, id, idSep)}
			}
		}
		q.Set("filter[id]", strings.Join(req.IDs, idSep))
	}
	return a.do(ctx, req, http.MethodGet, a.url(req.Type, "", a.includeQuery(req.Include, q), rules), nil)
}

// Query gets the records of req.Type matching req.Query, whose parameters
// are sent sorted by key.
func (a *HTTPAdapter) Query(ctx context.Context, req *Request) ([]byte, error) {
	return a.do(ctx, req, http.MethodGet, a.url(req.Type, "", a.includeQuery(req.Include, req.Query), a.rules(req.store)), nil)
}

// QueryRecord gets the one record of req.Type matching req.Query.
func (a *HTTPAdapter) QueryRecord(ctx context.Context, req *Request) ([]byte, error) {
	return a.Query(ctx, req)
}

// CreateRecord posts req.Body to the type's collection.
func (a *HTTPAdapter) CreateRecord(ctx context.Context, req *Request) ([]byte, error) {
	return a.do(ctx, req, http.MethodPost, a.url(req.Type, "", nil, a.rules(req.store)), req.Body)
}

// UpdateRecord sends req.Body to the record: PATCH for JSON:API, PUT for
// REST.
func (a *HTTPAdapter) UpdateRecord(ctx context.Context, req *Request) ([]byte, error) {
	method := http.MethodPatch
	if a.rest {
		method = http.MethodPut
	}
	rules := a.rules(req.store)
	if req.ID == "" {
		return nil, a.noID(method, req.Type, rules)
	}
	return a.do(ctx, req, method, a.url(req.Type, req.ID, nil, rules), req.Body)
}

// DeleteRecord deletes the record.
func (a *HTTPAdapter) DeleteRecord(ctx context.Context, req *Request) error {
	rules := a.rules(req.store)
	if req.ID == "" {
		return a.noID(http.MethodDelete, req.Type, rules)
	}
	_, err := a.do(ctx, req, http.MethodDelete, a.url(req.Type, req.ID, nil, rules), nil)
	return err
}

// noID refuses a record call without an id, whose URL would name the
// whole collection: DELETE /albums.
func (a *HTTPAdapter) noID(method, typ string, rules *inflect.Rules) error {
	return &HTTPError{Method: method, URL: redactURL(a.url(typ, "", nil, rules)), Err: fmt.Errorf("%w: empty id", ErrNotFound)}
}

// FindMany gets several records with ids[]=1&ids[]=2.
func (a *RESTAdapter) FindMany(ctx context.Context, req *Request) ([]byte, error) {
	return a.flavoured().FindMany(ctx, req)
}

// FindRecord gets the record req.Type/req.ID.
func (a *RESTAdapter) FindRecord(ctx context.Context, req *Request) ([]byte, error) {
	return a.flavoured().FindRecord(ctx, req)
}

// FindAll gets every record of req.Type.
func (a *RESTAdapter) FindAll(ctx context.Context, req *Request) ([]byte, error) {
	return a.flavoured().FindAll(ctx, req)
}

// Query gets the records of req.Type matching req.Query.
func (a *RESTAdapter) Query(ctx context.Context, req *Request) ([]byte, error) {
	return a.flavoured().Query(ctx, req)
}

// QueryRecord gets the one record of req.Type matching req.Query.
func (a *RESTAdapter) QueryRecord(ctx context.Context, req *Request) ([]byte, error) {
	return a.flavoured().QueryRecord(ctx, req)
}

// CreateRecord posts req.Body to the type's collection.
func (a *RESTAdapter) CreateRecord(ctx context.Context, req *Request) ([]byte, error) {
	return a.flavoured().CreateRecord(ctx, req)
}

// UpdateRecord puts req.Body to the record.
func (a *RESTAdapter) UpdateRecord(ctx context.Context, req *Request) ([]byte, error) {
	return a.flavoured().UpdateRecord(ctx, req)
}

// DeleteRecord deletes the record.
func (a *RESTAdapter) DeleteRecord(ctx context.Context, req *Request) error {
	return a.flavoured().DeleteRecord(ctx, req)
}

// GroupForFindMany splits ids into groups whose FindMany URLs stay within
// MaxURLLength. An empty id, and for JSON:API or with URLForFindMany an id
// holding a comma, gets a group of its own (see FindMany), which the
// Store sends with FindRecord. With URLForFindMany, each candidate
// group's URL is measured as the hook builds it (with no include, as
// coalesced Finds have none); each group's size is found by a galloping
// search, with O(log n) hook calls for a group of n ids. A Store that
// coalesces Finds for an *HTTPAdapter or *RESTAdapter has it measure
// paths with the Store's inflection rules, as its FindMany calls build
// them (see Inflector); called directly, or through a type that embeds
// the adapter, it uses Inflector, else English.
func (a *HTTPAdapter) GroupForFindMany(typ string, ids []string) [][]string {
	return a.groupForFindMany(typ, ids, a.rules(nil))
}

// groupForFindMany calls g.GroupForFindMany; for the built-in adapters
// themselves, it measures their URLs with s's inflection rules, as their
// FindMany calls from s build them.
func (s *Store) groupForFindMany(g ManyGrouper, typ string, ids []string) [][]string {
	switch a := g.(type) {
	case *HTTPAdapter:
		return a.groupForFindMany(typ, ids, a.rules(s))
	case *RESTAdapter:
		h := a.flavoured()
		return h.groupForFindMany(typ, ids, h.rules(s))
	}
	return g.GroupForFindMany(typ, ids)
}

// groupForFindMany is GroupForFindMany with the rules for the paths.
func (a *HTTPAdapter) groupForFindMany(typ string, ids []string, rules *inflect.Rules) [][]string {
	limit := a.MaxURLLength
	if limit <= 0 {
		limit = 2048
	}
	if a.URLForFindMany != nil {
		return a.groupByHook(typ, ids, limit, rules)
	}
	base := len(a.url(typ, "", nil, rules)) + 1 // and "?"
	var groups [][]string
	var cur []string
	size := base
	for _, id := range ids {
		if id == "" || !a.rest && strings.Contains(id, idSep) {
			// Alone, a comma id is found at /albums/a%2Cb, whose one path
			// segment every server decodes to one id. Percent-encoding the
			// comma inside filter[id] would not help: servers decode the
			// query first and split after, and a second encoding would
			// reach them as part of the id. An empty id, which FindMany
			// refuses, fails alone.
			groups = append(groups, []string{id})
			continue
		}
		var add int
		if a.rest {
			add = len("ids%5B%5D=") + len(url.QueryEscape(id)) + 1
		} else if len(cur) == 0 {
			add = len("filter%5Bid%5D=") + len(url.QueryEscape(id))
		} else {
			add = len("%2C") + len(url.QueryEscape(id))
		}
		if len(cur) > 0 && size+add > limit {
			groups = append(groups, cur)
			cur, size = nil, base
			if !a.rest {
				add = len("filter%5Bid%5D=") + len(url.QueryEscape(id))
			}
		}
		cur = append(cur, id)
		size += add
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

// groupByHook splits ids as GroupForFindMany does, measuring the URLs
// URLForFindMany builds. It gives the groups that adding ids one by one
// would (an id joins the current group unless that makes the URL longer
// than limit), in the same order, but finds each group's size by
// galloping and then bisecting, which the hook's promise allows (a larger
// group never gives a shorter URL): O(log k) hook calls for a group of k
// ids, not k calls with a URL each as long as the group.
func (a *HTTPAdapter) groupByHook(typ string, ids []string, limit int, rules *inflect.Rules) [][]string {
	base := a.collection(typ, rules)
	alone := func(id string) bool { return id == "" || strings.Contains(id, idSep) }
	// The ids that may share a group, and where each stands in ids.
	var shared []string
	var at []int
	for i, id := range ids {
		if !alone(id) {
			shared = append(shared, id)
			at = append(at, i)
		}
	}
	// The hook gets a copy, refilled for each call: it must not keep or
	// change the ids, but the groups must survive it if it does.
	scratch := make([]string, len(shared))
	fits := func(g []string) bool {
		n := copy(scratch, g)
		return len(a.URLForFindMany(base, typ, scratch[:n:n])) <= limit
	}
	var groups [][]string
	placed := 0 // ids[:placed] that go alone are in groups
	placeAlone := func(upTo int) {
		for ; placed < upTo; placed++ {
			if alone(ids[placed]) {
				groups = append(groups, []string{ids[placed]})
			}
		}
	}
	for start := 0; start < len(shared); {
		n := groupSize(shared[start:], fits)
		// Added one by one, the group would close on reaching the id
		// that does not fit: those going alone before that come first.
		upTo := len(ids)
		if start+n < len(shared) {
			upTo = at[start+n]
		}
		placeAlone(upTo)
		groups = append(groups, slices.Clone(shared[start:start+n]))
		start += n
	}
	placeAlone(len(ids))
	return groups
}

// groupSize returns how many of ids, from the first, make the largest
// group that fits, at least 1, for a fits that holds for every group
// smaller than one it holds for. It gallops (2, 4, 8, ... ids) to the
// first size that does not fit, then bisects: O(log k) calls of fits for
// a result of k. Every size it returns above 1 is one fits held for.
func groupSize(ids []string, fits func([]string) bool) int {
	lo, hi := 1, len(ids)+1 // lo fits (one id always makes a group); hi does not
	for n := 2; n <= len(ids); n *= 2 {
		if !fits(ids[:n]) {
			hi = n
			break
		}
		lo = n
	}
	if hi == len(ids)+1 && lo < len(ids) {
		if fits(ids) {
			return len(ids)
		}
		hi = len(ids)
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if fits(ids[:mid]) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// hookURL is the URL of a FindMany call built by URLForFindMany, with
// include added to its query.
func (a *HTTPAdapter) hookURL(typ string, ids, include []string, rules *inflect.Rules) string {
	u := a.URLForFindMany(a.collection(typ, rules), typ, slices.Clone(ids))
	if len(include) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + url.Values{"include": {strings.Join(include, ",")}}.Encode()
	}
	return u
}

// GroupForFindMany splits ids as HTTPAdapter's does, for REST URLs.
func (a *RESTAdapter) GroupForFindMany(typ string, ids []string) [][]string {
	return a.flavoured().GroupForFindMany(typ, ids)
}

// flavoured returns a copy of the embedded HTTPAdapter set to REST.
func (a *RESTAdapter) flavoured() *HTTPAdapter {
	h := a.HTTPAdapter
	h.rest = true
	return &h
}

// idSep joins the ids of a JSON:API FindMany in filter[id].
const idSep = ","

// url builds host/namespace/path[/id][?query], with the path and id
// escaped as single segments.
func (a *HTTPAdapter) url(typ, id string, q url.Values, rules *inflect.Rules) string {
	var b strings.Builder
	c := a.collection(typ, rules)
	b.WriteString(c)
	if id != "" {
		b.WriteByte('/')
		b.WriteString(escapeSegment(id))
	} else if c == strings.TrimRight(a.Host, "/") {
		b.WriteByte('/') // the collection is the host's root
	}
	if len(q) > 0 {
		b.WriteByte('?')
		b.WriteString(q.Encode()) // sorted by key
	}
	return b.String()
}

// collection builds host/namespace/path, the URL of typ's collection.
// Empty parts add no segment: no Namespace, empty segments in it ("a//b")
// or a PathForType that returns "" leave no "//" behind (/api/1, not
// /api//1), as Ember's buildURL joins only the parts it has.
func (a *HTTPAdapter) collection(typ string, rules *inflect.Rules) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(a.Host, "/"))
	for seg := range strings.SplitSeq(a.Namespace, "/") {
		if seg != "" {
			b.WriteByte('/')
			b.WriteString(seg)
		}
	}
	if p := a.pathFor(typ, rules); p != "" {
		b.WriteByte('/')
		b.WriteString(escapeSegment(p))
	}
	return b.String()
}

// escapeSegment escapes s as one path segment. url.PathEscape leaves "."
// and ".." alone, and clients, proxies and servers remove such dot
// segments (RFC 3986, 5.2.4): DELETE /api/albums/.. would be DELETE /api/.
// Percent-encoded dots are not dot segments, and servers decode them back
// into the id. PathEscape already escapes "/", "?", "#", "%", ";" and "\".
func escapeSegment(s string) string {
	switch s {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(s)
}

// pathFor is typ's path segment, unescaped: PathForType's, or typ
// pluralized with rules.
func (a *HTTPAdapter) pathFor(typ string, rules *inflect.Rules) string {
	switch {
	case a.PathForType != nil:
		return a.PathForType(typ)
	case a.rest:
		return rules.Plural(inflect.Camelize(typ))
	}
	return rules.Plural(inflect.Dasherize(typ))
}

// rules returns the inflection rules for the default paths of a request
// the Store s makes (s nil: a request made elsewhere): s's own, unless
// Inflector overrides them. An Inflector that is the very Rules given to
// s's Options.Inflector does not: it stands for s's copy of them, so that
// words added to it after New reach neither.
func (a *HTTPAdapter) rules(s *Store) *inflect.Rules {
	switch {
	case s != nil && (a.Inflector == nil || a.Inflector == s.givenRules):
		return s.inflector()
	case a.Inflector != nil:
		return a.Inflector
	}
	return inflector
}

// includeQuery adds include=a,b to q (a copy), if there is any.
func (a *HTTPAdapter) includeQuery(include []string, q url.Values) url.Values {
	if len(include) == 0 {
		return q
	}
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	out.Set("include", strings.Join(include, ","))
	return out
}

func (a *HTTPAdapter) mediaType() string {
	if a.rest {
		return "application/json"
	}
	return "application/vnd.api+json"
}

// do sends one request and returns the body of a successful response.
func (a *HTTPAdapter) do(ctx context.Context, r *Request, method, u string, body []byte) ([]byte, error) {
	sent := redactURL(u) // what HTTPError.URL reports: the URL as sent, once there is a request
	fail := func(status int, err error, objs []ErrorObject) error {
		return &HTTPError{Method: method, URL: sent, Status: status, Err: err, Errors: objs}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fail(0, redactParseError(err), nil)
	}
	sent = req.URL.Redacted()
	for k, v := range a.Header {
		req.Header[k] = slices.Clone(v)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", a.mediaType())
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", a.mediaType())
	}
	if a.Prepare != nil {
		err := a.Prepare(req)
		if req.URL == nil {
			return nil, fail(0, errors.New("recstore: Prepare left the request without a URL"), nil)
		}
		// Prepare may point the request elsewhere (another host, a signed
		// query): errors name where it went, not where it would have.
		sent = req.URL.Redacted()
		if err != nil {
			return nil, fail(0, err, nil)
		}
	}
	// The origin is taken after Prepare, which may point the request
	// elsewhere: it is where the app chose to send its headers.
	home := origin(req.URL)
	last := req.URL // the URL of the last request sent
	resp, err := a.client(home, &last).Do(req)
	if err != nil {
		return nil, fail(0, transportError(ctx, err), nil)
	}
	defer resp.Body.Close()
	if resp.Request != nil {
		last = resp.Request.URL
	}
	// The redirect check has vetted every hop; this one also covers a
	// Transport that follows redirects itself.
	if o := origin(last); o != home && !a.redirectAllowed(o) {
		return nil, fail(0, fmt.Errorf("%w: the answer came from %s", ErrCrossOriginRedirect, o), nil)
	}
	limit := a.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fail(0, transportError(ctx, err), nil)
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300 || resp.StatusCode == http.StatusNotModified
	if int64(len(data)) > limit {
		if !ok {
			// The status says what went wrong; the body is only detail.
			return nil, fail(resp.StatusCode, nil, errorObjects(resp, data[:limit]))
		}
		return nil, fail(0, fmt.Errorf("%w: the body exceeds %d bytes", ErrBadResponse, limit), nil)
	}
	if ok {
		if len(bytes.TrimSpace(data)) > 0 && !isJSONType(resp.Header.Get("Content-Type")) {
			return nil, fail(0, fmt.Errorf("%w: content type %q is not JSON", ErrBadResponse, resp.Header.Get("Content-Type")), nil)
		}
		if fresh, stale, ok := cacheHeaders(resp.Header); ok && r != nil && method == http.MethodGet {
			r.SetMaxAge(fresh, stale)
		}
		return data, nil
	}
	return nil, fail(resp.StatusCode, nil, errorObjects(resp, data))
}

// client returns a copy of the app's Client (never changed, as other code
// may share it) whose redirect check refuses, or strips the app's headers
// from, a redirect to another origin than home, before it is sent. Go's
// Client would forward Header, Prepare's headers and, to the same host on
// another port, Authorization and Cookie too. last is set to each URL the
// check lets through.
func (a *HTTPAdapter) client(home originKey, last **url.URL) *http.Client {
	base := a.Client
	if base == nil {
		base = http.DefaultClient
	}
	c := *base
	check := base.CheckRedirect
	c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if o := origin(r.URL); o != home {
			if !a.redirectAllowed(o) {
				return fmt.Errorf("%w: to %s", ErrCrossOriginRedirect, o)
			}
			// Go copied the first request's headers, Referer added: keep
			// only what says what we ask for and what we send.
			h := http.Header{"Accept": {a.mediaType()}}
			if ct := r.Header.Get("Content-Type"); ct != "" && r.Body != nil && r.Body != http.NoBody {
				h.Set("Content-Type", ct)
			}
			r.Header = h
		}
		if check != nil {
			if err := check(r, via); err != nil {
				return err
			}
		} else if len(via) >= 10 {
			return errors.New("stopped after 10 redirects") // as Go's default
		}
		*last = r.URL
		return nil
	}
	if c.Jar != nil && len(a.RedirectOrigins) > 0 {
		c.Jar = homeJar{c.Jar, home}
	}
	return &c
}

// homeJar gives a request cookies from the app's jar only on its own
// origin, so that none follow a redirect to a RedirectOrigins origin.
type homeJar struct {
	http.CookieJar
	home originKey
}

// Cookies returns the jar's cookies for u if u is on the home origin.
func (j homeJar) Cookies(u *url.URL) []*http.Cookie {
	if origin(u) != j.home {
		return nil
	}
	return j.CookieJar.Cookies(u)
}

// redirectAllowed reports whether RedirectOrigins lists origin o. Entries
// without a scheme and host match nothing.
func (a *HTTPAdapter) redirectAllowed(o originKey) bool {
	for _, s := range a.RedirectOrigins {
		if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" && origin(u) == o {
			return true
		}
	}
	return false
}

// An originKey is a URL's scheme, host and port, lower case, with the
// scheme's default port spelled out, so that http://A and http://a:80 are
// one origin. It is a comparable value, so that checking the origin of
// every response allocates nothing.
type originKey struct{ scheme, host, port string }

func origin(u *url.URL) originKey {
	o := originKey{strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()}
	if o.port == "" {
		switch o.scheme {
		case "http":
			o.port = "80"
		case "https":
			o.port = "443"
		}
	}
	return o
}

// String returns the origin as scheme://host:port.
func (o originKey) String() string { return o.scheme + "://" + net.JoinHostPort(o.host, o.port) }

// isJSONType accepts application/json, application/vnd.api+json and other
// +json media types. An empty content type is not accepted.
func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// maxDetail caps the Detail errorObjects makes from a body, in bytes.
const maxDetail = 512

// errorObjects reads a failed response's JSON:API errors, or makes one
// from its body, as Ember Data's normalizeErrorResponse does.
func errorObjects(resp *http.Response, data []byte) []ErrorObject {
	if isJSONType(resp.Header.Get("Content-Type")) {
		var doc struct {
			Errors []ErrorObject `json:"errors"`
		}
		if json.Unmarshal(data, &doc) == nil && len(doc.Errors) > 0 {
			return doc.Errors
		}
	}
	detail := string(data)
	if len(detail) > maxDetail {
		// Cut before the rune that would cross the limit; a body that is
		// not UTF-8 is cut at most utf8.UTFMax bytes short of it.
		n := maxDetail - len("...")
		for i := n; i > n-utf8.UTFMax && i > 0; i-- {
			if utf8.RuneStart(detail[i]) {
				n = i
				break
			}
		}
		detail = detail[:n] + "..."
	}
	return []ErrorObject{{Status: fmt.Sprint(resp.StatusCode), Title: "The backend responded with an error", Detail: detail}}
}

// transportError classifies a failure to get a response: a deadline or a
// network timeout is ErrTimeout, anything else an abort.
func transportError(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the HTTPError names the method and URL already
	}
	if errors.Is(err, ErrCrossOriginRedirect) {
		return err
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded,
		errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return fmt.Errorf("%w: %w", ErrAborted, err)
}

var (
	_ LinkFinder = (*HTTPAdapter)(nil)
	_ LinkFinder = (*RESTAdapter)(nil)
)

// FindLink gets req.Link, a URL the backend sent in a links object,
// resolved as Ember Data resolves link URLs:
//
//   - "https://…" and "http://…" are used as they are, and "//…" with
//     Host's scheme;
//   - "/albums/1/tracks" is appended to Host (without Namespace);
//   - a relative related link (req.Relationship set), such as "tracks",
//     follows the record's URL as FindRecord builds it for
//     req.Type/req.ID: /api/albums/1/tracks;
//   - a relative pagination link (req.Relationship "") is resolved, as
//     RFC 3986 says, against the URL Query sent for req.Type and
//     req.Query: "?page[number]=2" and "albums?page[number]=2" both give
//     /api/albums?page[number]=2.
//
// The GET goes out as the adapter's other requests do: Header, Prepare,
// MaxResponseBytes, the redirect rules and the same *HTTPError.
//
// A link is the backend's word, so it cannot carry the app's credentials
// away: one that leads to another origin (scheme, host, port) than
// Host's fails with an *HTTPError matching ErrCrossOriginLink before
// anything is sent, unless RedirectOrigins lists that origin. Even then
// it is sent as a redirect there would be: with Accept only, without
// Header, without calling Prepare, and without the Client's Jar; a
// Client.Transport that adds credentials itself still adds them, as on a
// redirect. A link that is empty, unparsable or not http(s) fails with
// ErrBadResponse. No error shows a password the link or Host holds.
func (a *HTTPAdapter) FindLink(ctx context.Context, req *Request) ([]byte, error) {
	u, err := a.linkURL(req)
	if err != nil {
		// The link is the backend's, and a password in it is no less
		// secret than one in Host: errors show neither.
		shown := req.Link
		if u != nil {
			shown = u.String()
		}
		return nil, &HTTPError{Method: http.MethodGet, URL: redactURL(shown), Err: err}
	}
	home, _ := url.Parse(a.Host)
	if home == nil || origin(u) != origin(home) {
		if !a.redirectAllowed(origin(u)) {
			return nil, &HTTPError{Method: http.MethodGet, URL: redactURL(u.String()),
				Err: fmt.Errorf("%w: %s", ErrCrossOriginLink, origin(u))}
		}
		// Another origin the app trusts with its data, not its
		// credentials: none of what says who the app is goes there.
		b := *a
		b.Header, b.Prepare = nil, nil
		c := http.Client{}
		if a.Client != nil {
			c = *a.Client
		}
		c.Jar = nil
		b.Client = &c
		return b.do(ctx, req, http.MethodGet, u.String(), nil)
	}
	return a.do(ctx, req, http.MethodGet, u.String(), nil)
}

// FindLink gets req.Link as HTTPAdapter's does, relative links resolved
// against REST URLs.
func (a *RESTAdapter) FindLink(ctx context.Context, req *Request) ([]byte, error) {
	return a.flavoured().FindLink(ctx, req)
}

// linkURL resolves req.Link as FindLink describes. On an error it returns
// the URL it got to, if any, for the error to name (redacted). Its errors
// show no password from the link or Host.
func (a *HTTPAdapter) linkURL(req *Request) (*url.URL, error) {
	link := req.Link
	if strings.TrimSpace(link) == "" {
		return nil, fmt.Errorf("%w: empty link", ErrBadResponse)
	}
	rules := a.rules(req.store)
	ref, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("%w: link: %w", ErrBadResponse, redactParseError(err))
	}
	host := strings.TrimRight(a.Host, "/")
	var u *url.URL
	switch {
	case ref.Scheme != "":
		u = ref
	case strings.HasPrefix(link, "//"):
		base, err := url.Parse(host)
		if err != nil {
			return nil, fmt.Errorf("%w: Host: %w", ErrBadResponse, redactParseError(err))
		}
		u = base.ResolveReference(ref)
	case strings.HasPrefix(link, "/"):
		// Host and the path, as Ember joins them: Host's own path, if it
		// has one, stays.
		u, err = url.Parse(host + link)
	case req.Relationship != "":
		if req.ID == "" {
			return nil, fmt.Errorf("%w: a relative related link needs the record's id", ErrNotFound)
		}
		u, err = url.Parse(a.url(req.Type, req.ID, nil, rules) + "/" + link)
	default:
		var base *url.URL
		base, err = url.Parse(a.url(req.Type, "", a.includeQuery(req.Include, req.Query), rules))
		if err == nil {
			u = base.ResolveReference(ref)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: link: %w", ErrBadResponse, redactParseError(err))
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" || u.Host == "" {
		return u, fmt.Errorf("%w: link %q is not an http(s) URL", ErrBadResponse, shortText(redactURL(link), maxErrText))
	}
	return u, nil
}

// redactURL returns s with any password in it masked, as URL.Redacted
// masks it. In a URL that does not parse, or whose userinfo URL.Redacted
// would not see (the opaque "http:u:pw@host"), what follows the first ":"
// of what stands before an "@" in its would-be authority is masked.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.Opaque == "" {
		return u.Redacted()
	}
	start := 0
	if i := strings.Index(s, "//"); i >= 0 {
		start = i + len("//")
	} else if i := strings.Index(s, ":"); i >= 0 {
		start = i + len(":")
	}
	rest := s[start:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return s
	}
	user, _, ok := strings.Cut(rest[:at], ":")
	if !ok {
		return s // a user name, which URL.Redacted shows too
	}
	return s[:start] + user + ":xxxxx@" + rest[at+1:]
}

// redactParseError masks any password in the URL a *url.Error names, as
// url.Parse's errors quote the whole URL.
func redactParseError(err error) error {
	ue, ok := err.(*url.Error)
	if !ok {
		return err
	}
	return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
}

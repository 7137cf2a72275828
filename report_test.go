package recstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reportLog collects what OnReport is given.
type reportLog struct {
	mu   sync.Mutex
	reps []recstore.Report
}

func (l *reportLog) hook(r recstore.Report) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reps = append(l.reps, r)
}

func (l *reportLog) list() []recstore.Report {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]recstore.Report(nil), l.reps...)
}

// withoutErr returns reps with Err cleared, for comparing the rest.
func withoutErr(reps []recstore.Report) []recstore.Report {
	if len(reps) == 0 {
		return nil
	}
	out := make([]recstore.Report, len(reps))
	for i, r := range reps {
		r.Err = nil
		out[i] = r
	}
	return out
}

// reportStore returns a Store with the shared models and Coerced,
// reporting to a new reportLog.
func reportStore(t *testing.T, opts *recstore.Options) (*recstore.Store, *reportLog) {
	t.Helper()
	l := &reportLog{}
	if opts == nil {
		opts = &recstore.Options{}
	}
	opts.OnReport = l.hook
	s := newSerializerStore(t, opts)
	recstore.MustRegister[Coerced](s, nil)
	return s, l
}

func TestReport_Kinds(t *testing.T) {
	const (
		unknownMember = "unknown member skipped"
		unknownType   = "resource of unknown type skipped"
	)
	skipping := recstore.SerializerFunc(func(s *recstore.Store, typ string, payload []byte) (*recstore.Document, error) {
		doc, err := (&recstore.JSONAPISerializer{}).Normalize(s, typ, payload)
		if err != nil {
			return nil, err
		}
		doc.Skipped = append(doc.Skipped, &recstore.DocumentError{Pointer: "/data/secret", Err: errors.New("not for clients")})
		return doc, nil
	})
	tests := []struct {
		name    string
		ser     recstore.Serializer // nil: a plain Push
		typ     string
		payload string
		want    []recstore.Report
		wantErr []error // what each report's Err matches; nil: no Err
		reason  string
	}{
		{"JSON hash, unknown member", &recstore.JSONSerializer{}, "album",
			`{"id": 1, "title": "T", "extra": 1}`,
			[]recstore.Report{{Kind: recstore.ReportUnknownMember, Type: "album", Member: "extra", Pointer: "/extra", Count: 1, Message: unknownMember}},
			[]error{nil}, "members the model lacks are reported, not silently dropped"},
		{"REST records, unknown members merged by name", &recstore.RESTSerializer{}, "album",
			`{"albums": [{"id": 1, "extra": 1}, {"id": 2, "extra": 2, "more~/": 3}]}`,
			[]recstore.Report{
				{Kind: recstore.ReportUnknownMember, Type: "album", Member: "extra", Pointer: "/albums/0/extra", Count: 2, Message: unknownMember},
				{Kind: recstore.ReportUnknownMember, Type: "album", Member: "more~/", Pointer: "/albums/1/more~0~1", Count: 1, Message: unknownMember},
			},
			[]error{nil, nil}, "one report per member, with the first pointer, escaped"},
		{"REST polymorphic type key and embedded type are known", &recstore.RESTSerializer{}, "github-handle",
			`{"githubHandles": [{"id": 1, "owner": 5, "ownerType": "person"}], "posts": [{"id": 1, "author": {"id": 2, "type": "person", "firstName": "A"}}]}`,
			nil, nil, "members a serializer reads are not unknown"},
		{"JSON:API attribute and relationship", &recstore.JSONAPISerializer{}, "",
			`{"data": {"type": "albums", "id": "1", "attributes": {"title": "T", "extra": 1}, "relationships": {"producer": {"data": null}}}}`,
			[]recstore.Report{
				{Kind: recstore.ReportUnknownMember, Type: "album", Member: "extra", Pointer: "/data/attributes/extra", Count: 1, Message: unknownMember},
				{Kind: recstore.ReportUnknownMember, Type: "album", Member: "producer", Pointer: "/data/relationships/producer", Count: 1, Message: unknownMember},
			},
			[]error{nil, nil}, ""},
		{"plain Push", nil, "",
			`{"data": [{"type": "album", "id": "1"}, {"type": "album", "id": "2", "attributes": {"extra": 1}, "relationships": {"producer": {"data": null}}}]}`,
			[]recstore.Report{
				{Kind: recstore.ReportUnknownMember, Type: "album", Member: "extra", Pointer: "/data/1/attributes/extra", Count: 1, Message: unknownMember},
				{Kind: recstore.ReportUnknownMember, Type: "album", Member: "producer", Pointer: "/data/1/relationships/producer", Count: 1, Message: unknownMember},
			},
			[]error{nil, nil}, "Push ignores unknown members as Ember does, and says so"},
		{"REST unknown root key", &recstore.RESTSerializer{}, "album",
			`{"albums": [{"id": 1}], "unicorns": [{"id": 1}]}`,
			[]recstore.Report{{Kind: recstore.ReportUnknownType, Type: "unicorn", Pointer: "/unicorns", Count: 1, Message: unknownType}},
			[]error{recstore.ErrUnknownType}, ""},
		{"JSON:API included resource of unknown type", &recstore.JSONAPISerializer{}, "",
			`{"data": {"type": "albums", "id": "1"}, "included": [{"type": "unicorns", "id": "1"}, {"type": "unicorns", "id": "2"}]}`,
			[]recstore.Report{{Kind: recstore.ReportUnknownType, Type: "unicorns", Pointer: "/included/0/type", Count: 2, Message: unknownType}},
			[]error{recstore.ErrUnknownType}, ""},
		{"lossy coercion, JSON", &recstore.JSONSerializer{}, "coerced",
			`{"id": 1, "n": "twelve"}`,
			[]recstore.Report{{Kind: recstore.ReportLossyCoercion, Type: "coerced", Member: "n", Pointer: "/n", Count: 1, Message: "lossy coercion: non-numeric string to number"}},
			[]error{recstore.ErrLossyCoercion}, `"songCount": "twelve" becomes 0, and is reported`},
		{"lossy coercion, JSON:API", &recstore.JSONAPISerializer{}, "",
			`{"data": {"type": "coerced", "id": "1", "attributes": {"b": 2}}}`,
			[]recstore.Report{{Kind: recstore.ReportLossyCoercion, Type: "coerced", Member: "b", Pointer: "/data/attributes/b", Count: 1, Message: "lossy coercion: number other than 0 or 1 to boolean"}},
			[]error{recstore.ErrInvalidAttribute}, "Err is the *AttributeError Strict would fail with"},
		{"custom serializer's Skipped", skipping, "",
			`{"data": {"type": "albums", "id": "1"}}`,
			[]recstore.Report{{Kind: recstore.ReportSkipped, Member: "secret", Pointer: "/data/secret", Count: 1, Message: "payload member skipped"}},
			[]error{recstore.ErrInvalidDocument}, "Document.Skipped is reported as it was logged"},
		{"custom serializer over a built-in one", recstore.SerializerFunc(func(s *recstore.Store, typ string, payload []byte) (*recstore.Document, error) {
			return (&recstore.RESTSerializer{}).Normalize(s, typ, payload)
		}), "coerced",
			`{"coerced": {"id": 1, "n": "x"}, "unicorns": []}`,
			[]recstore.Report{
				{Kind: recstore.ReportLossyCoercion, Type: "coerced", Member: "n", Pointer: "/coerced/n", Count: 1, Message: "lossy coercion: non-numeric string to number"},
				{Kind: recstore.ReportUnknownType, Type: "unicorn", Pointer: "/unicorns", Count: 1, Message: unknownType},
			},
			[]error{recstore.ErrLossyCoercion, recstore.ErrUnknownType}, "the Document carries what its Normalize reported"},
		{"nothing to report", &recstore.JSONSerializer{}, "coerced",
			`{"id": 1, "n": "12", "b": 1, "s": 3}`, nil, nil, "lossless coercions are not reported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, l := reportStore(t, &recstore.Options{Serializer: tt.ser})
			var err error
			if tt.ser == nil {
				_, err = s.Push(tt.payload)
			} else {
				_, err = s.PushPayload(tt.typ, tt.payload)
			}
			require.NoError(t, err)
			got := l.list()
			assert.Equal(t, tt.want, withoutErr(got), "reports of %s (%s)", tt.payload, tt.reason)
			require.Len(t, got, len(tt.wantErr))
			for i, want := range tt.wantErr {
				if want == nil {
					assert.NoError(t, got[i].Err, "report %d", i)
				} else {
					assert.ErrorIs(t, got[i].Err, want, "report %d", i)
				}
			}
		})
	}
}

// A payload of 10,000 records that each skip the same member and coerce
// the same attribute with a loss gives two reports, counted.
func TestReport_Aggregation(t *testing.T) {
	const n = 10_000
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id": %d, "n": "twelve", "extra": %d}`, i, i)
	}
	b.WriteString("]")
	s, l := reportStore(t, &recstore.Options{Serializer: &recstore.JSONSerializer{}, MaxDocumentBytes: 8 << 20})
	_, err := s.PushPayload("coerced", b.String())
	require.NoError(t, err)
	assert.Equal(t, []recstore.Report{
		{Kind: recstore.ReportLossyCoercion, Type: "coerced", Member: "n", Pointer: "/0/n", Count: n, Message: "lossy coercion: non-numeric string to number"},
		{Kind: recstore.ReportUnknownMember, Type: "coerced", Member: "extra", Pointer: "/0/extra", Count: n, Message: "unknown member skipped"},
	}, withoutErr(l.list()))

	// Store.Normalize reports too, once, and so does a failed push: not.
	l.reps = nil
	_, err = s.Normalize("coerced", `{"id": 1, "b": "yes"}`)
	require.NoError(t, err)
	require.Len(t, l.list(), 1)
	assert.Equal(t, recstore.ReportLossyCoercion, l.list()[0].Kind)
	l.reps = nil
	_, err = s.PushPayload("coerced", `[{"id": 1, "b": "yes"}, {"id": "", "b": 1}]`)
	require.Error(t, err)
	assert.Empty(t, l.list(), "a push that fails reports nothing but its error")
}

// Past 16 distinct reports, the rest of each kind merge into one.
func TestReport_Bounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"id": 1`)
	for i := range 1000 {
		fmt.Fprintf(&b, `, "x%d": 1`, i)
	}
	b.WriteString("}")
	s, l := reportStore(t, &recstore.Options{Serializer: &recstore.JSONSerializer{}})
	_, err := s.PushPayload("album", b.String())
	require.NoError(t, err)
	got := l.list()
	require.Len(t, got, 17)
	assert.Equal(t, "x0", got[0].Member)
	assert.Equal(t, recstore.Report{Kind: recstore.ReportUnknownMember, Pointer: "/x16", Count: 1000 - 16, Message: "unknown member skipped"}, got[16])
}

// Without OnReport, reports go to the Logger at their kind's level, with
// their fields as attributes; unknown members only when Debug is on.
func TestReport_DefaultLog(t *testing.T) {
	payload := `{"id": 1, "n": "twelve", "extra": 1}`

	var h recordingHandler
	s := newSerializerStore(t, &recstore.Options{Serializer: &recstore.JSONSerializer{}, Logger: slog.New(&h)})
	recstore.MustRegister[Coerced](s, nil)
	_, err := s.PushPayload("coerced", payload)
	require.NoError(t, err)
	require.Len(t, h.records, 2)
	lossy, member := h.records[0], h.records[1]
	assert.Equal(t, slog.LevelWarn, lossy.Level)
	assert.Equal(t, "recstore: lossy coercion: non-numeric string to number", lossy.Message)
	a := attrs(lossy)
	assert.Equal(t, "lossy-coercion", a["kind"].String())
	assert.Equal(t, "coerced", a["type"].String())
	assert.Equal(t, "n", a["member"].String())
	assert.Equal(t, "/n", a["pointer"].String())
	assert.Equal(t, int64(1), a["count"].Int64())
	lossErr, ok := a["err"].Any().(error)
	require.True(t, ok, "err is an error, got %T", a["err"].Any())
	assert.ErrorIs(t, lossErr, recstore.ErrLossyCoercion)
	assert.Equal(t, slog.LevelDebug, member.Level)
	assert.Equal(t, "recstore: unknown member skipped", member.Message)
	assert.Equal(t, "extra", attrs(member)["member"].String())

	// A text handler at Info: the unknown member is not even looked for.
	var buf bytes.Buffer
	s = newSerializerStore(t, &recstore.Options{Serializer: &recstore.JSONSerializer{}, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	recstore.MustRegister[Coerced](s, nil)
	_, err = s.PushPayload("coerced", payload)
	require.NoError(t, err)
	out := buf.String()
	assert.Contains(t, out, `level=WARN msg="recstore: lossy coercion: non-numeric string to number" kind=lossy-coercion type=coerced member=n pointer=/n count=1 err=`)
	assert.NotContains(t, out, "extra")
	assert.Equal(t, 1, strings.Count(out, "\n"), "one line: %s", out)
}

func TestReportKind(t *testing.T) {
	tests := []struct {
		kind  recstore.ReportKind
		name  string
		level slog.Level
	}{
		{recstore.ReportUnknownMember, "unknown-member", slog.LevelDebug},
		{recstore.ReportUnknownType, "unknown-type", slog.LevelWarn},
		{recstore.ReportSkipped, "skipped", slog.LevelWarn},
		{recstore.ReportLossyCoercion, "lossy-coercion", slog.LevelWarn},
		{recstore.ReportBackgroundError, "background-error", slog.LevelWarn},
		{recstore.ReportPanic, "panic", slog.LevelError},
		{recstore.ReportKind(99), "ReportKind(99)", slog.LevelWarn},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.name, tt.kind.String())
		assert.Equal(t, tt.level, tt.kind.Level(), "level of %s", tt.name)
	}
	// A Report logs as one group attribute.
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "report", recstore.Report{Kind: recstore.ReportUnknownMember, Type: "album", Member: "m", Count: 2})
	assert.Contains(t, buf.String(), "report.kind=unknown-member report.type=album report.member=m report.count=2")
}

// Strict serializers fail on each lossy coercion with an *AttributeError
// pointing at the member, and push nothing; lossless coercions pass.
func TestStrict(t *testing.T) {
	sers := []struct {
		name    string
		ser     recstore.Serializer
		payload func(member, value string) string
		pointer func(member string) string
	}{
		{"JSON", &recstore.JSONSerializer{Strict: true},
			func(m, v string) string { return fmt.Sprintf(`[{"id": 1, "s": "ok"}, {"id": 2, %q: %s}]`, m, v) },
			func(m string) string { return "/1/" + m }},
		{"REST", &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{Strict: true}},
			func(m, v string) string {
				return fmt.Sprintf(`{"coerced": [{"id": 1, "s": "ok"}, {"id": 2, %q: %s}]}`, m, v)
			},
			func(m string) string { return "/coerced/1/" + m }},
		{"JSON:API", &recstore.JSONAPISerializer{Strict: true},
			func(m, v string) string {
				return fmt.Sprintf(`{"data": [{"type": "coerced", "id": "1", "attributes": {"s": "ok"}}, {"type": "coerced", "id": "2", "attributes": {%q: %s}}]}`, m, v)
			},
			func(m string) string { return "/data/1/attributes/" + m }},
	}
	lossy := []struct{ member, value, reason string }{
		{"n", `"twelve"`, "non-numeric string to number"},
		{"f", `"abc"`, "non-numeric string to number"},
		{"f", `"1e400"`, "a numeric string beyond float64"},
		{"f", `1e400`, "a number beyond float64"},
		{"n", `"-Infinity"`, "Infinity"},
		{"b", `2`, "a number other than 0 or 1"},
		{"b", `-0.5`, "a fraction"},
		{"b", `"yes"`, "a string other than true/t/1/false/f/0"},
		{"b", `{}`, "an object"},
		{"pb", `[]`, "an array, to a pointer"},
		{"t", `{}`, "an object to a date"},
		{"t", `true`, "a boolean to a date"},
		{"n", `{}`, "an object to a number, NaN to Ember"},
		{"f", `{"v": 1.5}`, "an object to a number"},
		{"n", `[]`, "an empty array to a number, 0 to JavaScript but null here"},
		{"f", `[5]`, "an array of a number to a number, 5 to JavaScript but null here"},
		{"s", `{}`, "an object to a string, \"[object Object]\" to Ember"},
		{"s", `["a", "b"]`, "an array to a string, \"a,b\" to Ember"},
	}
	lossless := []struct{ member, value string }{
		{"n", `"12"`}, {"n", `" 7 "`}, {"n", `""`}, {"n", `true`}, {"n", `false`}, {"n", `1e3`},
		{"f", `"1.5"`}, {"f", `"0x10"`}, {"f", `2.5`}, {"f", `null`},
		{"b", `1`}, {"b", `0`}, {"b", `"TRUE"`}, {"b", `"t"`}, {"b", `"1"`}, {"b", `"False"`}, {"b", `"f"`}, {"b", `"0"`}, {"b", `""`}, {"b", `true`},
		{"pb", `null`}, {"s", `12`}, {"s", `false`},
		{"t", `"2020-01-02"`}, {"t", `1577923200000`}, {"t", `null`},
	}
	for _, sr := range sers {
		for _, tt := range lossy {
			t.Run(sr.name+"/lossy/"+tt.member+"="+tt.value, func(t *testing.T) {
				t.Parallel()
				s, l := reportStore(t, &recstore.Options{Serializer: sr.ser})
				before := recstore.Dump(s)
				_, err := s.PushPayload("coerced", sr.payload(tt.member, tt.value))
				require.Error(t, err, "%s (%s)", tt.value, tt.reason)
				assert.ErrorIs(t, err, recstore.ErrInvalidDocument)
				assert.ErrorIs(t, err, recstore.ErrInvalidAttribute)
				assert.ErrorIs(t, err, recstore.ErrLossyCoercion)
				var de *recstore.DocumentError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, sr.pointer(tt.member), de.Pointer)
				var ae *recstore.AttributeError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, "coerced", ae.Type)
				assert.Equal(t, "2", ae.ID)
				assert.Equal(t, tt.member, ae.Attr)
				assert.Equal(t, tt.value, ae.Value)
				requireUnchanged(t, s, before)
				assert.Empty(t, l.list())
			})
		}
		for _, tt := range lossless {
			t.Run(sr.name+"/lossless/"+tt.member+"="+tt.value, func(t *testing.T) {
				t.Parallel()
				s, l := reportStore(t, &recstore.Options{Serializer: sr.ser})
				_, err := s.PushPayload("coerced", sr.payload(tt.member, tt.value))
				require.NoError(t, err, "%s is coerced without loss", tt.value)
				assert.Empty(t, l.list())
			})
		}
	}
}

// An object or array given for a number or a string attribute becomes
// null (the field's zero value, or nil), as Ember's number transform
// does with Number(v)'s NaN, and the loss is reported, where the payload
// used to fail. (JavaScript reads [] as 0 and [5] as 5, and String(v)
// gives "[object Object]" or joins an array; recstore takes null for
// every object and array.)
func TestPushPayload_objectOrArrayToScalar(t *testing.T) {
	type Scalars struct {
		ID int64    `jsonapi:"primary,scalars"`
		N  int      `jsonapi:"attr,n"`
		F  float64  `jsonapi:"attr,f"`
		S  string   `jsonapi:"attr,s"`
		PN *int     `jsonapi:"attr,pn"`
		PS *string  `jsonapi:"attr,ps"`
		PF *float32 `jsonapi:"attr,pf"`
	}
	const (
		toNumber = "lossy coercion: object or array to null number"
		toString = "lossy coercion: object or array to null string"
	)
	seven, text, half := 7, "text", float32(0.5)
	full := Scalars{ID: 1, N: 7, F: 1.5, S: "text", PN: &seven, PS: &text, PF: &half}
	tests := []struct {
		name, member, value string
		want                Scalars // the record after the push over full
		reason              string
	}{
		{name: "object to int", member: "n", value: `{}`, want: Scalars{ID: 1, F: 1.5, S: "text", PN: &seven, PS: &text, PF: &half},
			reason: "Number({}) is NaN, which Ember stores as null"},
		{name: "empty array to int", member: "n", value: `[]`, want: Scalars{ID: 1, F: 1.5, S: "text", PN: &seven, PS: &text, PF: &half},
			reason: "JavaScript's 0, but null here"},
		{name: "array to float", member: "f", value: `[5]`, want: Scalars{ID: 1, N: 7, S: "text", PN: &seven, PS: &text, PF: &half},
			reason: "JavaScript's 5, but null here"},
		{name: "object to *int", member: "pn", value: `{"v": 1}`, want: Scalars{ID: 1, N: 7, F: 1.5, S: "text", PS: &text, PF: &half}},
		{name: "array to *float32", member: "pf", value: `[[1], 2]`, want: Scalars{ID: 1, N: 7, F: 1.5, S: "text", PN: &seven, PS: &text}},
		{name: "object to string", member: "s", value: `{}`, want: Scalars{ID: 1, N: 7, F: 1.5, PN: &seven, PS: &text, PF: &half},
			reason: `String({}) is "[object Object]", no use to a Go string`},
		{name: "array to *string", member: "ps", value: `["a", "b"]`, want: Scalars{ID: 1, N: 7, F: 1.5, S: "text", PN: &seven, PF: &half},
			reason: `String(["a", "b"]) is "a,b"`},
	}
	sers := []struct {
		name    string
		ser     recstore.Serializer
		payload func(member, value string) string
		pointer func(member string) string
	}{
		{"JSON", &recstore.JSONSerializer{},
			func(m, v string) string { return fmt.Sprintf(`{"id": 1, %q: %s}`, m, v) },
			func(m string) string { return "/" + m }},
		{"REST", &recstore.RESTSerializer{},
			func(m, v string) string { return fmt.Sprintf(`{"scalars": {"id": 1, %q: %s}}`, m, v) },
			func(m string) string { return "/scalars/" + m }},
		{"JSON:API", &recstore.JSONAPISerializer{},
			func(m, v string) string {
				return fmt.Sprintf(`{"data": {"type": "scalars", "id": "1", "attributes": {%q: %s}}}`, m, v)
			},
			func(m string) string { return "/data/attributes/" + m }},
	}
	for _, sr := range sers {
		for _, tt := range tests {
			t.Run(sr.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				l := &reportLog{}
				s := newSerializerStore(t, &recstore.Options{Serializer: sr.ser, OnReport: l.hook})
				scalars := recstore.MustRegister[Scalars](s, nil)
				_, err := scalars.Push(`{"data": {"type": "scalars", "id": "1", "attributes": ` +
					`{"n": 7, "f": 1.5, "s": "text", "pn": 7, "ps": "text", "pf": 0.5}}}`)
				require.NoError(t, err)
				got, ok := scalars.Peek("1")
				require.True(t, ok)
				require.Equal(t, full, got)
				payload := sr.payload(tt.member, tt.value)
				_, err = s.PushPayload("scalars", payload)
				require.NoError(t, err, "%s: %s", payload, tt.reason)
				got, ok = scalars.Peek("1")
				require.True(t, ok)
				assert.Equal(t, tt.want, got, "%s: %s", payload, tt.reason)
				message := toNumber
				if tt.member == "s" || tt.member == "ps" {
					message = toString
				}
				reps := l.list()
				assert.Equal(t, []recstore.Report{{Kind: recstore.ReportLossyCoercion, Type: "scalars", Member: tt.member,
					Pointer: sr.pointer(tt.member), Count: 1, Message: message}}, withoutErr(reps), "%s is reported", payload)
				require.Len(t, reps, 1)
				assert.ErrorIs(t, reps[0].Err, recstore.ErrLossyCoercion)
			})
		}
	}
}

// A panicking OnReport does not affect the push it reports on: the
// report is logged instead, and the panic once, at Error.
func TestReport_PanickingHook(t *testing.T) {
	var h recordingHandler
	calls := 0
	s := newSerializerStore(t, &recstore.Options{
		Serializer: &recstore.JSONSerializer{},
		Logger:     slog.New(&h),
		OnReport: func(r recstore.Report) {
			calls++
			if calls == 3 {
				runtime.Goexit() // as t.FailNow in a hook would
			}
			panic("boom in OnReport")
		},
	})
	coerced := recstore.MustRegister[Coerced](s, nil)
	for i := range 3 {
		got, err := coerced.PushPayload(fmt.Sprintf(`{"id": %d, "n": "twelve"}`, i))
		require.NoError(t, err, "push %d", i)
		require.Len(t, got, 1)
		_, ok := coerced.Peek(int64ID(i))
		assert.True(t, ok, "push %d stands", i)
	}
	assert.Equal(t, 3, calls)
	var msgs []string
	for _, r := range h.records {
		msgs = append(msgs, r.Message)
	}
	assert.Equal(t, []string{
		"recstore: OnReport panicked (later panics are not logged)",
		"recstore: lossy coercion: non-numeric string to number",
		"recstore: lossy coercion: non-numeric string to number",
	}, msgs, "the first panic is logged, and each report it swallowed")
	require.NotEmpty(t, h.records)
	assert.Equal(t, slog.LevelError, h.records[0].Level)
	perr, ok := attrs(h.records[0])["err"].Any().(error)
	require.True(t, ok)
	var pe *recstore.PanicError
	require.ErrorAs(t, perr, &pe)
	assert.Equal(t, "OnReport", pe.Op)
	assert.Equal(t, "boom in OnReport", pe.Value)
}

func int64ID(i int) string { return fmt.Sprint(i) }

// A background reload's failure is a Report of kind background-error;
// OnBackgroundError, when set, still gets it.
func TestReport_BackgroundError(t *testing.T) {
	tests := []struct {
		name          string
		hook, onBgErr bool
		bgPanics      bool
		wantKinds     []recstore.ReportKind // what OnReport gets
		wantBg        int                   // OnBackgroundError calls
		wantLog       []string              // what the Logger gets
	}{
		{"OnReport only", true, false, false, []recstore.ReportKind{recstore.ReportBackgroundError}, 0, nil},
		{"both", true, true, false, []recstore.ReportKind{recstore.ReportBackgroundError}, 1, nil},
		{"OnBackgroundError only", false, true, false, nil, 1, nil},
		{"neither", false, false, false, nil, 0, []string{"recstore: background reload failed"}},
		{"OnBackgroundError panics", true, true, true, []recstore.ReportKind{recstore.ReportPanic, recstore.ReportBackgroundError}, 1, nil},
		{"OnBackgroundError panics, no OnReport", false, true, true, nil, 1, []string{"recstore: OnBackgroundError panicked", "recstore: background reload failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h recordingHandler
			l := &reportLog{}
			var bgMu sync.Mutex
			bg := 0
			opts := &recstore.Options{
				Logger: slog.New(&h),
				Adapter: recstore.AdapterFunc(func(ctx context.Context, req *recstore.Request) ([]byte, error) {
					return nil, errBackendDown
				}),
			}
			if tt.hook {
				opts.OnReport = l.hook
			}
			if tt.onBgErr {
				opts.OnBackgroundError = func(err error) {
					bgMu.Lock()
					bg++
					bgMu.Unlock()
					if tt.bgPanics {
						panic("boom in OnBackgroundError")
					}
				}
			}
			s := recstore.New(opts)
			albums := recstore.MustRegister[Album](s, nil)
			_, err := s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "T"}}}`)
			require.NoError(t, err)
			a, err := albums.Find(context.Background(), "1", &recstore.FindOptions{BackgroundReload: recstore.ReloadAlways})
			require.NoError(t, err)
			assert.Equal(t, "T", a.Title)
			s.Wait()

			var kinds []recstore.ReportKind
			for _, r := range l.list() {
				kinds = append(kinds, r.Kind)
				assert.Equal(t, 1, r.Count)
				if r.Kind == recstore.ReportBackgroundError {
					assert.ErrorIs(t, r.Err, errBackendDown)
					assert.Equal(t, "album", r.Type)
				} else {
					assert.ErrorIs(t, r.Err, recstore.ErrPanic)
				}
			}
			assert.Equal(t, tt.wantKinds, kinds)
			assert.Equal(t, tt.wantBg, bg)
			var msgs []string
			for _, r := range h.records {
				msgs = append(msgs, r.Message)
			}
			assert.Equal(t, tt.wantLog, msgs)
			require.NoError(t, s.Close())
		})
	}
}

// Pushes from several goroutines each report their own payload's
// findings, to one hook (run with -race).
func TestReport_Concurrent(t *testing.T) {
	const goroutines, pushes = 8, 50
	var mu sync.Mutex
	counts := map[recstore.ReportKind]int{}
	s := newSerializerStore(t, &recstore.Options{
		Serializer: &recstore.RESTSerializer{},
		OnReport: func(r recstore.Report) {
			mu.Lock()
			defer mu.Unlock()
			counts[r.Kind] += r.Count
		},
	})
	coerced := recstore.MustRegister[Coerced](s, nil)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range pushes {
				id := g*pushes + i
				payload := fmt.Sprintf(`{"coerced": [{"id": %d, "b": "yes", "x": 1}, {"id": %d, "n": "twelve"}], "unicorns": []}`, id, id+100000)
				_, err := s.PushPayload("coerced", payload)
				assert.NoError(t, err)
				_, ok := coerced.Peek(fmt.Sprint(id))
				assert.True(t, ok)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, map[recstore.ReportKind]int{
		recstore.ReportLossyCoercion: 2 * goroutines * pushes,
		recstore.ReportUnknownMember: goroutines * pushes,
		recstore.ReportUnknownType:   goroutines * pushes,
	}, counts)
}

// BenchmarkOnReport is BenchmarkPushPayloadReports with a hook set, so
// that unknown members are looked for and reported.
func BenchmarkOnReport(b *testing.B) {
	benchPushPayloadReports(b, func(o *recstore.Options) { o.OnReport = func(recstore.Report) {} })
}

// A Document pushed as a value reports the attributes and relationships
// its model lacks, as its JSON form would.
func TestReport_PushDocument(t *testing.T) {
	s, l := reportStore(t, nil)
	doc := &recstore.Document{Data: []*recstore.Resource{{
		Type: "album", ID: "1",
		Attributes:    map[string]any{"title": "T", "zeta": 1, "alpha": 2},
		Relationships: map[string]*recstore.Relationship{"producer": {}},
	}}}
	_, err := s.Push(doc)
	require.NoError(t, err)
	assert.Equal(t, []recstore.Report{
		{Kind: recstore.ReportUnknownMember, Type: "album", Member: "alpha", Pointer: "/data/attributes/alpha", Count: 1, Message: "unknown member skipped"},
		{Kind: recstore.ReportUnknownMember, Type: "album", Member: "zeta", Pointer: "/data/attributes/zeta", Count: 1, Message: "unknown member skipped"},
		{Kind: recstore.ReportUnknownMember, Type: "album", Member: "producer", Pointer: "/data/relationships/producer", Count: 1, Message: "unknown member skipped"},
	}, withoutErr(l.list()))
}

package recstore_test

import (
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Types standing for another package's: no struct tags at all.

type extUser struct {
	ID      string
	Name    string
	Handles []Handle
	Secret  chan int // not a model member: never mapped
}

type extGithubHandle struct {
	ID       string
	Username string
	User     *extUser
}

func (h *extGithubHandle) Handle() string { return "github:" + h.Username }

type extTwitterHandle struct {
	ID   string
	Nick string
	User *extUser
}

func (h *extTwitterHandle) Handle() string { return "@" + h.Nick }

type extWeather struct {
	ID   int64
	Temp float64  `jsonapi:"attr,temp"` // tagged: options add a transform
	City string   `jsonapi:"attr,city"`
	Note string   `jsonapi:"attr,note"`
	Ch   chan int `jsonapi:"attr,ch"`                             // unsupported: options leave it out
	Wind float64  `jsonapi:"attr,wind" recstore:"transform=nope"` // options remove the transform
}

func TestModelOptions_Tags_Untagged(t *testing.T) {
	before := recstore.New(nil)
	_, err := recstore.Register[extUser](before, nil)
	require.ErrorIs(t, err, recstore.ErrInvalidModel, "an untagged struct has no primary field, so needs options")

	s := recstore.New(nil)
	users, err := recstore.Register[extUser](s, &recstore.ModelOptions{
		Tags: map[string]string{
			"ID":      `jsonapi:"primary,user"`,
			"Name":    `jsonapi:"attr,name"`,
			"Handles": `jsonapi:"relation,handles" recstore:"inverse=user"`,
		},
	})
	require.NoError(t, err)
	ghs, err := recstore.Register[extGithubHandle](s, &recstore.ModelOptions{Tags: map[string]string{
		"ID":       `jsonapi:"primary,github-handle"`,
		"Username": `jsonapi:"attr,username"`,
		"User":     `jsonapi:"relation,user"`,
	}})
	require.NoError(t, err)
	_, err = recstore.Register[extTwitterHandle](s, &recstore.ModelOptions{Tags: map[string]string{
		"ID":   `jsonapi:"primary,twitter-handle"`,
		"Nick": `jsonapi:"attr,nick"`,
		"User": `jsonapi:"relation,user"`,
	}})
	require.NoError(t, err)

	_, err = s.Push(userDoc)
	require.NoError(t, err)
	u, ok := users.Peek("1")
	require.True(t, ok)
	assert.Equal(t, "Ann", u.Name)
	assert.Equal(t, []string{"github:ann", "@annie"}, []string{u.Handles[0].Handle(), u.Handles[1].Handle()})
	h, _ := ghs.Peek("1")
	require.NotNil(t, h.User, "the inverse given through options sets the handle's user")
	assert.Equal(t, "1", h.User.ID)
	require.NoError(t, recstore.CheckInverses(s))
}

func TestModelOptions_Tags_Override(t *testing.T) {
	s := recstore.New(&recstore.Options{Serializer: &recstore.JSONSerializer{
		Transforms: map[string]recstore.Transform{"fahrenheit": fahrenheit{}},
	}})
	weather, err := recstore.Register[extWeather](s, &recstore.ModelOptions{Tags: map[string]string{
		"ID":   `jsonapi:"primary,weather"`,
		"Temp": `recstore:"transform=fahrenheit"`, // merged: keeps jsonapi:"attr,temp"
		"City": `jsonapi:"attr,town"`,             // replaces the field's own
		"Note": `jsonapi:""`,                      // leaves the field out
		"Ch":   `jsonapi:""`,
		"Wind": `recstore:""`, // removes the field's own, keeps its jsonapi key
	}})
	require.NoError(t, err, "the Ch field's own tag is unsupported, and options leave it out")

	got, err := weather.PushPayload(`{"id": 1, "temp": 212, "town": "Oslo", "city": "ignored", "note": "ignored", "wind": 3}`)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, extWeather{ID: 1, Temp: 100, City: "Oslo", Wind: 3}, got[0], "PushPayload runs the transform options named")

	out, err := s.Serialize(recstore.Key{Type: "weather", ID: "1"}, nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"temp": 212, "town": "Oslo", "wind": 3}`, string(out))
}

func TestModelOptions_Tags_Errors(t *testing.T) {
	type Tagged struct {
		ID    string `jsonapi:"primary,tagged"`
		Title string `jsonapi:"attr,title"`
		Other string
		inner string
	}
	type Embedded struct{ Promoted string }
	type WithEmbedded struct {
		Embedded
		ID string `jsonapi:"primary,with-embedded"`
	}
	tests := []struct {
		name      string
		register  func(*recstore.Store) error
		wantField string
		wantMsg   string
	}{
		{"unknown field", regWith[Tagged](tagOpts("Nope", `jsonapi:"attr,nope"`)), "Nope", `ModelOptions.Tags: the struct has no field "Nope"`},
		{"promoted field", regWith[WithEmbedded](tagOpts("Promoted", `jsonapi:"attr,p"`)), "Promoted",
			`ModelOptions.Tags: "Promoted" is promoted from the embedded field Embedded: Register reads the struct's own fields only, so tag Embedded (one attribute holding the whole struct) or declare Promoted in the struct`},
		{"unquoted value", regWith[Tagged](tagOpts("Other", `jsonapi:attr,other`)), "Other", "malformed tag"},
		{"unclosed value", regWith[Tagged](tagOpts("Other", `jsonapi:"attr,other`)), "Other", "is not closed"},
		{"no key", regWith[Tagged](tagOpts("Other", `"attr,other"`)), "Other", "malformed tag"},
		{"another key", regWith[Tagged](tagOpts("Other", `json:"other"`)), "Other", `tag key "json" means nothing`},
		{"repeated key", regWith[Tagged](tagOpts("Other", `jsonapi:"attr,a" jsonapi:"attr,b"`)), "Other", "given twice"},
		{"conflicting member name", regWith[Tagged](tagOpts("Other", `jsonapi:"attr,title"`)), "Other", `duplicate member name "title" (the tag comes from ModelOptions.Tags)`},
		{"second primary", regWith[Tagged](tagOpts("Other", `jsonapi:"primary,other"`)), "Other", "a second primary field"},
		{"bad recstore value", regWith[Tagged](tagOpts("Title", `recstore:"inverse=x"`)), "Title", `want transform=NAME (the tag comes from ModelOptions.Tags)`},
		{"bad annotation", regWith[Tagged](tagOpts("Other", `jsonapi:"attribute,other"`)), "Other", `unknown jsonapi annotation "attribute"`},
		{"unexported field", regWith[Tagged](tagOpts("inner", `jsonapi:"attr,inner"`)), "inner", "unexported field (the tag comes from ModelOptions.Tags)"},
		{"Inverses against Tags", regWith[extUser](&recstore.ModelOptions{
			Tags:     map[string]string{"ID": `jsonapi:"primary,user"`, "Handles": `jsonapi:"relation,handles" recstore:"inverse=user"`},
			Inverses: map[string]string{"handles": "owner"}}), "Handles", `ModelOptions.Inverses gives "handles" the inverse "owner", and ModelOptions.Tags "user"`},
		{"unsupported relation type", regWith[extUser](&recstore.ModelOptions{Tags: map[string]string{
			"ID": `jsonapi:"primary,user"`, "Secret": `jsonapi:"relation,secret"`}}), "Secret", "(the tag comes from ModelOptions.Tags)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := recstore.New(nil)
			err := tt.register(s)
			require.ErrorIs(t, err, recstore.ErrInvalidModel)
			var me *recstore.ModelError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tt.wantField, me.Field, "error: %v", err)
			assert.Contains(t, me.Msg, tt.wantMsg)
			assert.Empty(t, s.Types(), "a failed Register registers nothing")
		})
	}
}

func tagOpts(field, tag string) *recstore.ModelOptions {
	return &recstore.ModelOptions{Tags: map[string]string{field: tag}}
}

// FuzzModelOptionsTags: whatever ModelOptions.Tags says, Register returns
// a model or a *ModelError, and never panics.
func FuzzModelOptionsTags(f *testing.F) {
	for _, seed := range []string{`jsonapi:"attr,name"`, `jsonapi:"relation,handles" recstore:"inverse=user"`,
		`jsonapi:attr`, `jsonapi:"a\"b"`, `recstore:""`, `jsonapi:""`, `:"x"`, `jsonapi:"`, `jsonapi:"\`} {
		f.Add("Name", seed)
		f.Add("Handles", seed)
	}
	f.Fuzz(func(t *testing.T, field, tag string) {
		s := recstore.New(nil)
		_, err := recstore.Register[extUser](s, &recstore.ModelOptions{Tags: map[string]string{
			"ID": `jsonapi:"primary,user"`, field: tag}})
		if err != nil {
			var me *recstore.ModelError
			require.ErrorAs(t, err, &me)
		}
	})
}

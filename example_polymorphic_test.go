package recstore_test

import (
	"fmt"
	"math"

	"github.com/recstore/recstore"
)

// SocialHandle is what a user's handles have in common. Models whose
// pointers implement it may be members of a []SocialHandle relation.
type SocialHandle interface{ Display() string }

// Member is the reference's user: its handles are of several models.
type Member struct {
	ID      string         `jsonapi:"primary,user"`
	Name    string         `jsonapi:"attr,name"`
	Handles []SocialHandle `jsonapi:"relation,handles" recstore:"inverse=user"`
}

// GitHubHandle is one kind of handle; its user is the inverse of handles.
type GitHubHandle struct {
	ID    string  `jsonapi:"primary,github-handle"`
	Login string  `jsonapi:"attr,login"`
	User  *Member `jsonapi:"relation,user"`
}

func (h *GitHubHandle) Display() string { return "github.com/" + h.Login }

// TwitterHandle implements SocialHandle with a value receiver: reads still
// give a *TwitterHandle.
type TwitterHandle struct {
	ID   string  `jsonapi:"primary,twitter-handle"`
	Nick string  `jsonapi:"attr,nick"`
	User *Member `jsonapi:"relation,user"`
}

func (h TwitterHandle) Display() string { return "@" + h.Nick }

// A relation field of interface type holds records of every model that
// implements it: Ember Data's polymorphic relationship. Each member is
// read as a *S, so a type switch tells them apart; the inverse (each
// handle's user) is kept in step as for any relation.
func Example_polymorphic() {
	store := recstore.New(nil)
	members := recstore.MustRegister[Member](store, nil)
	github := recstore.MustRegister[GitHubHandle](store, nil)
	recstore.MustRegister[TwitterHandle](store, nil)
	recstore.MustRegister[Album](store, nil)

	_, err := store.Push(`{"data": {"type": "user", "id": "1", "attributes": {"name": "Ann"},
		"relationships": {"handles": {"data": [
			{"type": "github-handle", "id": "7"}, {"type": "twitter-handle", "id": "8"}]}}},
		"included": [
			{"type": "github-handle", "id": "7", "attributes": {"login": "ann"}},
			{"type": "twitter-handle", "id": "8", "attributes": {"nick": "annie"}}]}`)
	if err != nil {
		panic(err)
	}
	m, _ := members.Peek("1")
	for _, h := range m.Handles {
		switch h := h.(type) {
		case *GitHubHandle:
			fmt.Println("GitHub:", h.Display())
		case *TwitterHandle:
			fmt.Println("Twitter:", h.Display())
		}
	}
	gh, _ := github.Peek("7")
	fmt.Println("github-handle 7 belongs to", gh.User.Name)

	// An album is not a SocialHandle: the push fails and changes nothing.
	_, err = store.Push(`{"data": {"type": "user", "id": "1", "relationships": {"handles": {"data": [{"type": "album", "id": "1"}]}}}}`)
	fmt.Println(err)
	// Output:
	// GitHub: github.com/ann
	// Twitter: @annie
	// github-handle 7 belongs to Ann
	// recstore: invalid document at /data/relationships/handles/data/0/type: relationship "handles" holds models implementing recstore_test.SocialHandle, which "album" (recstore_test.Album) does not
}

// Price is a type from another package: it carries no struct tags.
type Price struct {
	SKU   string
	Cents int64
	Note  string
}

// ModelOptions.Tags gives a struct you cannot tag its tags, in the tag
// syntax: here a primary key, a renamed attribute read through a custom
// transform, and a field left out.
func ExampleModelOptions() {
	dollars := recstore.TransformFuncs{
		DeserializeFunc: func(v any) (any, error) {
			f, ok := v.(float64)
			if !ok {
				return nil, fmt.Errorf("want an amount in dollars, got %T", v)
			}
			return int64(math.Round(f * 100)), nil
		},
		SerializeFunc: func(v any) (any, error) { return float64(v.(int64)) / 100, nil },
	}
	store := recstore.New(&recstore.Options{Serializer: &recstore.JSONSerializer{
		Transforms: map[string]recstore.Transform{"dollars": dollars},
	}})
	prices := recstore.MustRegister[Price](store, &recstore.ModelOptions{Tags: map[string]string{
		"SKU":   `jsonapi:"primary,price"`,
		"Cents": `jsonapi:"attr,amount" recstore:"transform=dollars"`,
	}})
	got, err := prices.PushPayload(`{"id": "tea", "amount": 4.2, "Note": "not a member"}`)
	fmt.Printf("%+v %v\n", got, err)
	// Output: [{SKU:tea Cents:420 Note:}] <nil>
}

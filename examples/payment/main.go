// Command payment is the third example of Ember Data's guide to pushing
// records, in Go: an endpoint that runs some business logic and creates
// several records at once does not fit a single-record save, so the app
// makes its own request and pushes the compound JSON:API answer into the
// store, where the rest of the app reads the new records.
//
// The endpoint is a local test server, so the example runs offline.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/recstore/recstore"
)

// Purchase is what a payment creates: the order, with its downloads.
type Purchase struct {
	ID        string      `jsonapi:"primary,purchase"`
	Total     float64     `jsonapi:"attr,total"`
	Currency  string      `jsonapi:"attr,currency"`
	Downloads []*Download `jsonapi:"relation,downloads" recstore:"inverse=purchase"`
}

// Download is one item of digital inventory the purchase unlocked.
type Download struct {
	ID       string    `jsonapi:"primary,download"`
	Title    string    `jsonapi:"attr,title"`
	URL      string    `jsonapi:"attr,url"`
	Expires  time.Time `jsonapi:"attr,expires"`
	Purchase *Purchase `jsonapi:"relation,purchase"`
}

// processPayment stands in for the backend's process-payment endpoint: it
// "charges" the card and answers with every record it created, as one
// compound JSON:API document.
func processPayment(w http.ResponseWriter, r *http.Request) {
	var order struct {
		Albums []string `json:"albums"`
	}
	if err := json.NewDecoder(r.Body).Decode(&order); err != nil || len(order.Albums) == 0 {
		http.Error(w, "want {\"albums\": [...]}", http.StatusBadRequest)
		return
	}
	var links, included []map[string]any
	for i, title := range order.Albums {
		id := fmt.Sprintf("d-%d", i+1)
		links = append(links, map[string]any{"type": "download", "id": id})
		included = append(included, map[string]any{"type": "download", "id": id, "attributes": map[string]any{
			"title": title, "url": "https://cdn.example/" + id + ".zip", "expires": "2026-12-31T23:59:59Z"}})
	}
	doc := map[string]any{
		"data": map[string]any{"type": "purchase", "id": "p-1001",
			"attributes":    map[string]any{"total": 9.99 * float64(len(order.Albums)), "currency": "EUR"},
			"relationships": map[string]any{"downloads": map[string]any{"data": links}}},
		"included": included,
	}
	w.Header().Set("Content-Type", "application/vnd.api+json")
	json.NewEncoder(w).Encode(doc)
}

func main() {
	srv := httptest.NewServer(http.HandlerFunc(processPayment))
	defer srv.Close()

	store := recstore.New(nil)
	defer store.Close()
	purchases := recstore.MustRegister[Purchase](store, nil)
	downloads := recstore.MustRegister[Download](store, nil)

	// The custom request, with a deadline as any network call should have.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, _ := json.Marshal(map[string]any{"albums": []string{"Fewer Moving Parts", "Calgary"}, "card": "tok_visa"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/process-payment", bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		log.Fatalf("process-payment: %s: %s", resp.Status, msg)
	}

	// The answer goes into the store as it is: Push reads the body.
	pushed, err := purchases.Push(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	p := pushed[0]
	fmt.Printf("purchase %s: %.2f %s, %d downloads\n", p.ID, p.Total, p.Currency, len(p.Downloads))

	// Anywhere else in the app: the new records are in the store.
	for id, d := range downloads.All() {
		fmt.Printf("download %s: %q at %s, until %s\n", id, d.Title, d.URL, d.Expires.Format(time.DateOnly))
	}
	d, _ := downloads.Peek("d-2")
	fmt.Println("d-2 belongs to purchase", d.Purchase.ID)
}

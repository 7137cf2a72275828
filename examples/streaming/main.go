// Command streaming is the streaming use case: a backend on loopback sends
// JSON:API documents as server-sent events (creates, partial updates, a
// delete and one message that arrives out of order), the client pushes
// each into a Store, and a subscriber prints every change as it lands. It
// ends by itself once the stream does.
//
//	go run ./examples/streaming
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/recstore/recstore"
)

// Quote is one stock quote; Seq orders the messages about it.
type Quote struct {
	ID    string  `jsonapi:"primary,quote"`
	Name  string  `jsonapi:"attr,name"`
	Price float64 `jsonapi:"attr,price"`
	Seq   int     `jsonapi:"attr,seq"`
}

// messages are what the backend streams: event type and data.
var messages = []struct{ event, data string }{
	{"push", `{"data": [{"type": "quote", "id": "ACME", "attributes": {"name": "Acme", "price": 10.5, "seq": 1}},
		{"type": "quote", "id": "INIT", "attributes": {"name": "Initech", "price": 3.25, "seq": 1}}]}`},
	{"push", `{"data": {"type": "quote", "id": "ACME", "attributes": {"price": 11, "seq": 3}}}`},
	// Sent before the one above, delivered after it: the guard leaves it out.
	{"push", `{"data": {"type": "quote", "id": "ACME", "attributes": {"price": 10.75, "seq": 2}}}`},
	{"push", `{"data": {"type": "quote", "id": "INIT", "attributes": {"price": 3.5, "seq": 2}}}`},
	{"push", `{"data": {"type": "quote", "id": "INIT", "attributes": {"price": 3.5, "seq": 2}}}`}, // no change: no event
	{"delete", `{"type": "quote", "id": "INIT"}`},
	{"push", `{"data": {"type": "quote", "id": "HOOLI", "attributes": {"name": "Hooli", "price": 99, "seq": 1}}}`},
}

func main() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, m := range messages {
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", m.event, strings.Join(strings.Fields(m.data), " "))
			w.(http.Flusher).Flush()
			time.Sleep(20 * time.Millisecond)
		}
	}))
	defer backend.Close()

	store := recstore.New(&recstore.Options{OnReport: func(r recstore.Report) {
		fmt.Printf("  report: %s %s at %s: %s\n", r.Kind, r.Type, r.Pointer, r.Message)
	}})
	quotes := recstore.MustRegister[Quote](store, nil)
	quotes.GuardOrder(func(in, held recstore.Versioned[Quote]) bool { return in.Has("seq") && in.Record.Seq < held.Record.Seq })
	cheap := quotes.View(func(q *Quote) bool { return q.Price < 50 })
	defer cheap.Close()

	var mu sync.Mutex // keeps the subscriber's lines whole
	sub := quotes.Subscribe(func(batch []recstore.Event) {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range batch {
			q, _ := quotes.Peek(ev.Key.ID)
			fmt.Printf("  %-7s %-5s changed %v: %+v\n", ev.Kind, ev.Key.ID, ev.Attrs(), q)
		}
	})
	defer sub.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, backend.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var event string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := strings.TrimPrefix(line, "data: ")
			mu.Lock()
			fmt.Printf("%s %s\n", event, data)
			mu.Unlock()
			if err := apply(store, event, data); err != nil {
				log.Fatal(err)
			}
			store.Wait()
		}
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	if err := store.Close(); err != nil { // waits for the subscriber
		log.Fatal(err)
	}
	fmt.Println("quotes under 50:", cheap.IDs())
	for id, q := range quotes.All() {
		fmt.Printf("%s: %s at %.2f (seq %d)\n", id, q.Name, q.Price, q.Seq)
	}
}

// apply pushes one message into the store.
func apply(store *recstore.Store, event, data string) error {
	switch event {
	case "push":
		_, err := store.Push(data)
		return err
	case "delete":
		var k recstore.Key
		if err := json.Unmarshal([]byte(data), &k); err != nil {
			return err
		}
		return store.Unload(k)
	}
	return fmt.Errorf("unknown event %q", event)
}

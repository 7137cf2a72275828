package recstoreotel_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoreotel"
	"github.com/recstore/recstore/recstoretest"
)

// Example publishes a Store's figures through the OpenTelemetry SDK. A
// ManualReader stands in for the periodic reader and exporter (OTLP,
// Prometheus ...) a program would configure.
func Example() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(ctx)

	type Album struct {
		ID    string `jsonapi:"primary,albums"`
		Title string `jsonapi:"attr,title"`
	}
	store := recstore.New(&recstore.Options{
		Adapter: recstoretest.NewMemoryAdapter(`{"data":[{"type":"albums","id":"1","attributes":{"title":"Kind of Blue"}}]}`),
		Expiry:  &recstore.Expiry{Soft: time.Hour},
	})
	defer store.Close()
	albums := recstore.MustRegister[Album](store, nil)

	reg, err := recstoreotel.Register(store, provider.Meter(recstoreotel.ScopeName),
		recstoreotel.WithAttributes(attribute.String("recstore.store", "music")))
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Unregister()

	for range 3 {
		if _, err := albums.Find(ctx, "1", nil); err != nil { // a miss, then two hits
			log.Fatal(err)
		}
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch m.Name {
		case "recstore.find.hits", "recstore.find.misses", "recstore.records", "recstore.adapter.calls":
			for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
				fmt.Printf("%s{%s} %d\n", m.Name, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Value)
			}
		}
	}
	// Output:
	// recstore.find.hits{recstore.store=music,recstore.type=albums} 2
	// recstore.find.misses{recstore.store=music,recstore.type=albums} 1
	// recstore.adapter.calls{recstore.store=music} 1
	// recstore.records{recstore.store=music,recstore.type=albums} 1
}

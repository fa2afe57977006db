// Package dashboards generates okrd's Grafana dashboards from a
// configuration, as code, with grafana-foundation-sdk: the OKR overview
// (one row per objective, built from the objectives and key results of the
// config), the delivery dashboard (DORA four keys, pull-request and Jira
// flow, sprints) and okrd's own health dashboard. `okrd dashboards` writes
// them; the JSON files next to this package are the output for
// config.example.toml, kept in step by a golden test, and provisioning/
// holds a Grafana provisioning example.
//
// Every panel queries the data source chosen by the $datasource variable.
// The output is deterministic: the UIDs are fixed, panel ids are numbered
// in order and JSON objects have sorted keys, so a regenerated dashboard
// differs from the previous one only where the configuration does.
package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/okrd/okrd/config"
)

// Dashboard is one generated Grafana dashboard.
type Dashboard struct {
	// UID is the dashboard's stable Grafana uid.
	UID string
	// Title is the dashboard's title.
	Title string
	// File is the name the dashboard is written under, e.g. "okrd-health.json".
	File string
	// JSON is the dashboard model, indented, ending in a newline.
	JSON []byte
}

// The dashboards' uids. They never change, so links and bookmarks survive a
// regeneration.
const (
	OverviewUID = "okrd-okr-overview"
	DeliveryUID = "okrd-delivery"
	HealthUID   = "okrd-health"
)

// tag marks every okrd dashboard; the dashboards link to each other by it.
const tag = "okrd"

// Generate builds every dashboard for cfg, in a fixed order: overview,
// delivery, health.
func Generate(cfg *config.Config) ([]Dashboard, error) {
	builders := []struct {
		uid, file string
		build     func(*config.Config) *dashboard.DashboardBuilder
	}{
		{OverviewUID, OverviewUID + ".json", overview},
		{DeliveryUID, DeliveryUID + ".json", delivery},
		{HealthUID, HealthUID + ".json", health},
	}
	out := make([]Dashboard, 0, len(builders))
	for _, b := range builders {
		d, err := b.build(cfg).Build()
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", b.uid, err)
		}
		numberPanels(&d)
		data, err := marshal(d)
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", b.uid, err)
		}
		out = append(out, Dashboard{UID: b.uid, Title: *d.Title, File: b.file, JSON: data})
	}
	return out, nil
}

// Write writes each dashboard into dir (created if missing) under its File
// name.
func Write(dir string, ds []Dashboard) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range ds {
		if err := os.WriteFile(filepath.Join(dir, d.File), d.JSON, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// numberPanels gives every panel and row a unique id in layout order:
// Grafana needs them to tell panels apart (view, edit, links to a panel),
// and numbering them here keeps them stable across regenerations.
func numberPanels(d *dashboard.Dashboard) {
	id := uint32(0)
	next := func() uint32 { id++; return id }
	for i := range d.Panels {
		p := &d.Panels[i]
		switch {
		case p.Panel != nil:
			v := next()
			p.Panel.Id = &v
		case p.RowPanel != nil:
			p.RowPanel.Id = next()
			for j := range p.RowPanel.Panels {
				v := next()
				p.RowPanel.Panels[j].Id = &v
			}
		}
	}
}

// marshal encodes a dashboard as indented JSON with sorted object keys:
// the SDK's structs encode their fields in declaration order, so the model
// is decoded into generic maps (which encoding/json sorts) and encoded
// again. Sorted keys keep the files diffable whatever the SDK version.
func marshal(d dashboard.Dashboard) ([]byte, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keeps numbers exactly as the SDK wrote them
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // PromQL's < and > stay readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(generic); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

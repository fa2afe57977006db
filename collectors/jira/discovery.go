package jira

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	jm "github.com/okrd/okrd/metrics/jira"
	"github.com/okrd/okrd/store"
)

// Discovery is what okrd learns about a site before syncing it: its
// flavour, the user's time zone, the statuses and their categories, the
// Sprint, Epic Link and story-point fields, and the boards with their
// estimation field and filter. It is stored (the site in the cursor
// cursorSite, the boards as records, in one transaction) and reused at a
// restart, which then asks Jira nothing before its first search. It is
// refreshed cheaply every checkEvery (the time zone, the statuses and
// the board list, reading only the boards that are new or changed),
// fully every refreshEvery and at a forced re-sync (the fields and every
// board's configuration and filter too), and in part when something
// unknown shows up: a status that the stored list lacks, a story-point
// field whose name okrd does not know.
const (
	cursorSite       = "site"
	discoveryVersion = 1
	checkEvery       = time.Hour
	refreshEvery     = 24 * time.Hour
)

// discoveryState is where the site and boards in memory come from.
type discoveryState struct {
	// looked is set once the stored discovery was looked for.
	looked bool
	// boards is set when the boards are known (stored with the site, or
	// read this process).
	boards bool
	// refreshed and checked are the last full discovery and the last
	// check.
	refreshed, checked time.Time
}

// siteCache is the JSON value of the site cursor.
type siteCache struct {
	Version int `json:"version"`
	// Config identifies the configuration it was learned for (url,
	// flavour, account, projects, boards, field overrides): another one
	// discovers afresh.
	Config       string            `json:"config"`
	Refreshed    time.Time         `json:"refreshed"`
	Checked      time.Time         `json:"checked"`
	Cloud        bool              `json:"cloud"`
	TimeZone     string            `json:"time_zone,omitempty"`
	Statuses     []cachedStatus    `json:"statuses"`
	SprintField  string            `json:"sprint_field,omitempty"`
	EpicField    string            `json:"epic_field,omitempty"`
	FieldNames   map[string]string `json:"field_names,omitempty"`
	PointsFields map[string]string `json:"points_fields,omitempty"`
}

type cachedStatus struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Category string `json:"category"`
}

// discoveryConfig identifies the parts of the configuration that discovery
// depends on (hashed: the account's email is no business of the store).
func (s *Source) discoveryConfig() string {
	sp := s.spec
	projects := make([]string, len(sp.Projects))
	for i, p := range sp.Projects {
		projects[i] = strings.ToUpper(p)
	}
	boards := make([]string, len(sp.Boards))
	for i, b := range sp.Boards {
		boards[i] = strconv.Itoa(b)
	}
	h := sha256.Sum256([]byte(strings.Join([]string{
		strings.TrimRight(sp.URL, "/"), sp.Flavor, sp.Email, strings.Join(projects, ","),
		strings.Join(boards, ","), sp.StoryPointsField, sp.SprintField,
	}, "\x00")))
	return hex.EncodeToString(h[:12])
}

// ensureSite returns what okrd knows of the site: the stored discovery
// (no request), or else its metadata, read now (the poll reads the boards).
// With refresh it discovers everything again, as a forced re-sync does.
func (s *Source) ensureSite(ctx context.Context, refresh bool) (*site, error) {
	if refresh {
		return s.discover(ctx, true)
	}
	s.siteMu.Lock()
	defer s.siteMu.Unlock()
	if err := s.lookUpDiscovery(ctx); err != nil {
		return nil, err
	}
	if s.site != nil {
		return s.site, nil
	}
	st, err := s.readSite(ctx, true, nil)
	if err != nil {
		return nil, err
	}
	s.site = st
	s.disc.refreshed = s.now()
	return st, nil
}

// discover brings what discovery learned up to date for a poll (see the
// constants above) and returns the site; full discovers everything again.
func (s *Source) discover(ctx context.Context, full bool) (*site, error) {
	s.siteMu.Lock()
	defer s.siteMu.Unlock()
	if err := s.lookUpDiscovery(ctx); err != nil {
		return nil, err
	}
	now := s.now()
	switch {
	case full, s.site == nil, now.Sub(s.disc.refreshed) >= refreshEvery:
		// The flavour is asked again (with flavor = "auto") only when
		// nothing is known or at a forced re-sync.
		st, err := s.readSite(ctx, full || s.site == nil, s.site)
		if err != nil {
			return nil, err
		}
		if err := s.discoverAllBoards(ctx, st, now); err != nil {
			return nil, err
		}
	case !s.disc.boards:
		// The metadata was read for a live measurement this process.
		if err := s.discoverAllBoards(ctx, s.site, now); err != nil {
			return nil, err
		}
	case now.Sub(s.disc.checked) >= checkEvery:
		if err := s.check(ctx, now); err != nil {
			return nil, err
		}
	}
	return s.site, nil
}

// lookUpDiscovery reads the stored discovery once per process. A stored
// one of another configuration or version is ignored: discovery starts
// over. The caller holds siteMu.
func (s *Source) lookUpDiscovery(ctx context.Context) error {
	if s.disc.looked {
		return nil
	}
	val, ok, err := s.st.Cursor(ctx, s.name, cursorSite)
	if err != nil {
		return fmt.Errorf("jira source %q: reading what discovery stored: %w", s.name, err)
	}
	s.disc.looked = true
	if !ok {
		return nil
	}
	var c siteCache
	if err := json.Unmarshal([]byte(val), &c); err != nil {
		s.log.Warn("what discovery stored does not decode; discovering the site again", "err", err)
		return nil
	}
	if c.Version != discoveryVersion || c.Config != s.discoveryConfig() {
		s.log.Debug("what discovery stored is of another configuration; discovering the site again")
		return nil
	}
	st := &site{
		cloud: c.Cloud, loc: s.location(c.TimeZone), sprintField: c.SprintField, epicField: c.EpicField,
		statuses: make(map[string]jm.Status, len(c.Statuses)), fieldNames: map[string]string{}, pointsFields: map[string]string{},
	}
	for _, x := range c.Statuses {
		st.statuses[x.ID] = jm.Status{ID: x.ID, Name: x.Name, Category: x.Category}
	}
	maps.Copy(st.fieldNames, c.FieldNames)
	maps.Copy(st.pointsFields, c.PointsFields)
	s.site = st
	s.disc = discoveryState{looked: true, boards: true, refreshed: c.Refreshed, checked: c.Checked}
	return nil
}

// location is the user's time zone, UTC when unknown here.
func (s *Source) location(tz string) *time.Location {
	if tz == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		s.log.Warn("the Jira user's time zone is unknown here; JQL dates are read as UTC, which the overlap must absorb", "time_zone", tz)
		return time.UTC
	}
	return loc
}

// readSite reads the site's metadata: its flavour (with flavor = "auto",
// when askFlavor or nothing is known; else prev's), the user's time zone,
// the statuses and the fields. The story-point fields of prev and of the
// stored boards are kept, so that the search keeps asking for the same
// fields.
func (s *Source) readSite(ctx context.Context, askFlavor bool, prev *site) (*site, error) {
	st := &site{pointsFields: map[string]string{}}
	switch {
	case s.spec.Flavor == FlavorCloud:
		st.cloud = true
	case s.spec.Flavor == FlavorServer:
	case prev != nil && !askFlavor:
		st.cloud = prev.cloud
	default:
		var info serverInfo
		if err := s.c.get(ctx, pathServerInfo, nil, &info); err != nil {
			return nil, err
		}
		st.cloud = strings.EqualFold(info.DeploymentType, "Cloud")
	}
	var me myself
	if err := s.c.get(ctx, pathMyself, nil, &me); err != nil {
		return nil, err
	}
	st.loc = s.location(me.TimeZone)
	if err := s.loadStatuses(ctx, st); err != nil {
		return nil, err
	}
	if err := s.loadFields(ctx, st); err != nil {
		return nil, err
	}
	if st.sprintField == "" {
		s.log.Warn("no Sprint field found; sprint membership comes from the sprints' issue lists only")
	}
	if s.spec.StoryPointsField != "" {
		st.pointsFields[s.spec.StoryPointsField] = st.fieldNames[s.spec.StoryPointsField]
	}
	if prev != nil {
		for id := range prev.pointsFields {
			st.pointsFields[id] = st.fieldNames[id]
		}
	}
	s.mu.RLock()
	for _, b := range s.model.Boards() {
		if b.PointsField != "" {
			st.pointsFields[b.PointsField] = st.fieldNames[b.PointsField]
		}
	}
	s.mu.RUnlock()
	return st, nil
}

// loadFields reads the fields: the Sprint and Epic Link fields (unless
// configured) and every field's name.
func (s *Source) loadFields(ctx context.Context, st *site) error {
	var fields []fieldJSON
	if err := s.c.get(ctx, pathField, nil, &fields); err != nil {
		return err
	}
	st.fieldNames = make(map[string]string, len(fields))
	sprint, epic := "", ""
	for _, f := range fields {
		st.fieldNames[f.ID] = f.Name
		switch f.Schema.Custom {
		case schemaSprint:
			if sprint == "" {
				sprint = f.ID
			}
		case schemaEpicLink:
			if epic == "" {
				epic = f.ID
			}
		}
	}
	st.sprintField, st.epicField = sprint, epic
	if s.spec.SprintField != "" {
		st.sprintField = s.spec.SprintField
	}
	for id := range st.pointsFields {
		if name := st.fieldNames[id]; name != "" {
			st.pointsFields[id] = name
		}
	}
	return nil
}

func (s *Source) loadStatuses(ctx context.Context, st *site) error {
	var statuses []statusJSON
	if err := s.c.get(ctx, pathStatus, nil, &statuses); err != nil {
		return err
	}
	st.statuses = make(map[string]jm.Status, len(statuses))
	for _, x := range statuses {
		st.statuses[x.ID] = jm.Status{ID: x.ID, Name: x.Name, Category: x.StatusCategory.Key}
	}
	return nil
}

// refreshStatuses reads the statuses again (an issue has one the list
// lacks) and stores them with the rest of the discovery.
func (s *Source) refreshStatuses(ctx context.Context, st *site) error {
	if err := s.loadStatuses(ctx, st); err != nil {
		return err
	}
	s.siteMu.Lock()
	defer s.siteMu.Unlock()
	return s.storeDiscovery(ctx, st, nil, nil)
}

// discoverAllBoards reads every board (configured, or located in the
// projects) with its configuration and filter, and stores them with the
// site. The caller holds siteMu.
func (s *Source) discoverAllBoards(ctx context.Context, from *site, now time.Time) error {
	// The boards add their story-point fields to a copy: the site in use
	// stays as it is until the discovery is stored.
	st := *from
	st.pointsFields = maps.Clone(from.pointsFields)
	entries, err := s.listBoards(ctx)
	if err != nil {
		return err
	}
	fr := &fieldReader{}
	boards := make([]*jm.Board, 0, len(entries))
	for _, e := range entries {
		b, err := s.readBoard(ctx, &st, e.ID, fr)
		if err != nil {
			return err
		}
		boards = append(boards, b)
	}
	s.disc.refreshed, s.disc.checked = now, now
	return s.storeDiscovery(ctx, &st, boards, s.goneBoards(boards))
}

// check is the cheap refresh: the time zone, the statuses and the board
// list; only boards new or renamed or of another type since are read.
// The caller holds siteMu.
func (s *Source) check(ctx context.Context, now time.Time) error {
	st := *s.site
	var me myself
	if err := s.c.get(ctx, pathMyself, nil, &me); err != nil {
		return err
	}
	st.loc = s.location(me.TimeZone)
	if err := s.loadStatuses(ctx, &st); err != nil {
		return err
	}
	st.pointsFields = maps.Clone(s.site.pointsFields)
	var boards []*jm.Board
	var gone []string
	if len(s.spec.Boards) == 0 && len(s.spec.Projects) > 0 {
		entries, err := s.listBoards(ctx)
		if err != nil {
			return err
		}
		s.mu.RLock()
		known := map[int]*jm.Board{}
		for _, b := range s.model.Boards() {
			known[b.ID] = b
		}
		s.mu.RUnlock()
		fr := &fieldReader{}
		changed := false
		for _, e := range entries {
			if b, ok := known[e.ID]; ok && b.Name == e.Name && b.Type == e.Type {
				boards = append(boards, b)
				continue
			}
			b, err := s.readBoard(ctx, &st, e.ID, fr)
			if err != nil {
				return err
			}
			boards = append(boards, b)
			changed = true
		}
		gone = s.goneBoards(boards)
		if !changed && len(gone) == 0 {
			boards = nil
		}
	}
	s.disc.checked = now
	return s.storeDiscovery(ctx, &st, boards, gone)
}

// goneBoards are the ids of the boards of the model that boards lacks.
func (s *Source) goneBoards(boards []*jm.Board) []string {
	keep := map[int]bool{}
	for _, b := range boards {
		keep[b.ID] = true
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var gone []string
	for _, b := range s.model.Boards() {
		if !keep[b.ID] {
			gone = append(gone, strconv.Itoa(b.ID))
		}
	}
	return gone
}

// storeDiscovery stores the site and, unless boards is nil, the boards
// (removing gone ones) in one transaction, then makes them the ones in
// use. The caller holds siteMu.
func (s *Source) storeDiscovery(ctx context.Context, st *site, boards []*jm.Board, gone []string) error {
	c := siteCache{
		Version: discoveryVersion, Config: s.discoveryConfig(), Refreshed: s.disc.refreshed, Checked: s.disc.checked,
		Cloud: st.cloud, SprintField: st.sprintField, EpicField: st.epicField, PointsFields: st.pointsFields,
		FieldNames: map[string]string{},
	}
	if st.loc != nil && st.loc != time.UTC {
		c.TimeZone = st.loc.String()
	}
	for _, x := range st.statuses {
		c.Statuses = append(c.Statuses, cachedStatus{ID: x.ID, Name: x.Name, Category: x.Category})
	}
	slices.SortFunc(c.Statuses, func(a, b cachedStatus) int { return strings.Compare(a.ID, b.ID) })
	// Of the field names, only those of the fields okrd keeps.
	for _, id := range []string{st.sprintField, st.epicField} {
		if n := st.fieldNames[id]; id != "" && n != "" {
			c.FieldNames[id] = n
		}
	}
	for id := range st.pointsFields {
		if n := st.fieldNames[id]; n != "" {
			c.FieldNames[id] = n
		}
	}
	val, err := json.Marshal(c)
	if err != nil {
		return err
	}
	recs := make([]store.Record, 0, len(boards))
	for _, b := range boards {
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		recs = append(recs, store.Record{Source: s.name, Scope: jm.BoardScope(b.ID), Kind: KindBoard, ID: strconv.Itoa(b.ID), UpdatedAt: s.now(), Data: data})
	}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		if len(gone) > 0 {
			if err := tx.DeleteRecords(ctx, s.name, KindBoard, gone...); err != nil {
				return err
			}
		}
		if len(recs) > 0 {
			if err := tx.PutRecords(ctx, recs...); err != nil {
				return err
			}
		}
		return tx.SetCursor(ctx, s.name, cursorSite, string(val))
	})
	if err != nil {
		return fmt.Errorf("jira source %q: storing what discovery learned: %w", s.name, err)
	}
	if boards != nil {
		s.mu.Lock()
		s.model.SetBoards(boards)
		s.mu.Unlock()
		s.disc.boards = true
	}
	s.site = st
	return nil
}

// fieldReader reads the field list at most once per discovery, when a
// board estimates in a field whose name okrd does not know.
type fieldReader struct{ read bool }

// name returns a field's name, reading the field list (into st) if the
// name is unknown and the list was not read yet in this discovery.
func (fr *fieldReader) name(ctx context.Context, s *Source, st *site, id string) (string, error) {
	if n := st.fieldNames[id]; n != "" || fr.read {
		return n, nil
	}
	fr.read = true
	if err := s.loadFields(ctx, st); err != nil {
		return "", err
	}
	return st.fieldNames[id], nil
}

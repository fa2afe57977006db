package jira

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	jm "github.com/okrd/okrd/metrics/jira"
	"github.com/okrd/okrd/sandbox/jirafake"
)

// tenProjects is a Cloud source over 10 generated projects with a board
// each, the last 5 of them kanban boards.
func tenProjects(t *testing.T) *env {
	clk := newClock(now)
	f := jirafake.New(jirafake.Cloud)
	f.Email, f.Token = testEmail, testToken
	f.Now = clk.Now
	keys := []string{"PA", "PB", "PC", "PD", "PE", "PF", "PG", "PH", "PI", "PJ"}
	f.Generate(jirafake.GenOptions{Projects: keys, Kanban: 5, Issues: 300, Now: now, Seed: 3})
	return newEnv(t, f, clk, func(s *Spec) {
		s.Flavor = FlavorCloud
		s.Projects = keys
		s.History = config.Duration(200 * 24 * time.Hour)
	})
}

func TestARestartAsksNothingDiscoveryLearned(t *testing.T) {
	e := tenProjects(t)
	e.mustPoll()
	// The first start: the metadata, one board list for all ten
	// projects, each board's configuration and filter.
	got := e.fake.Requests()
	discovery := map[string]int{}
	for _, r := range []string{"serverInfo", "myself", "status", "field", "agile/board", "agile/board/configuration", "filter"} {
		if got[r] > 0 {
			discovery[r] = got[r]
		}
	}
	want := map[string]int{"myself": 1, "status": 1, "field": 1, "agile/board": 1, "agile/board/configuration": 10, "filter": 10}
	if !maps.Equal(discovery, want) {
		t.Errorf("discovery at the first start = %v, want %v", discovery, want)
	}

	// A restart ten minutes later costs what any idle poll costs: one
	// search and the sprint lists of the 5 scrum boards.
	e.src = e.newSource()
	e.fake.ResetRequests()
	e.clk.Set(now.Add(10 * time.Minute))
	e.mustPoll()
	want = map[string]int{"search/jql": 1, "agile/board/sprint": 5}
	if got := e.fake.Requests(); !maps.Equal(got, want) {
		t.Errorf("requests of the poll after a restart = %v, want %v", got, want)
	}
	// What the restart serves is what was discovered: the ten boards and
	// their story-point field.
	e.src.mu.RLock()
	boards := e.src.model.Boards()
	e.src.mu.RUnlock()
	scrum := 0
	for _, b := range boards {
		if b.Type == "scrum" && b.PointsField == jirafake.FieldStoryPoints && slices.Equal(b.Projects, []string{b.Name[:2]}) {
			scrum++
		}
	}
	if len(boards) != 10 || scrum != 5 {
		t.Errorf("boards after a restart = %d (%d scrum boards estimating in story points), want 10 (5)", len(boards), scrum)
	}
	// A live count after a restart asks only for the count.
	e.fake.ResetRequests()
	if m := e.value(&config.KeyResult{Metric: "jql_count", Query: "project = PA"}); m.Err != nil || !m.OK {
		t.Fatalf("count = %+v", m)
	}
	if got := e.fake.Requests(); !maps.Equal(got, map[string]int{"search/jql": 1}) {
		t.Errorf("requests of a live count after a restart = %v, want one search", got)
	}
}

// discoveryRequests returns the requests of discovery since the last reset.
func discoveryRequests(e *env) map[string]int {
	out := map[string]int{}
	for r, n := range e.fake.Requests() {
		switch r {
		case "search/jql", "search", "agile/board/sprint", "changelog", "changelog/bulkfetch", "agile/sprint/issue":
		default:
			out[r] = n
		}
	}
	return out
}

func TestDiscoveryIsRefreshedOnASchedule(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	poll := func(at time.Duration) map[string]int {
		t.Helper()
		e.fake.ResetRequests()
		e.clk.Set(now.Add(at))
		e.mustPoll()
		return discoveryRequests(e)
	}
	if got := poll(59 * time.Minute); len(got) != 0 {
		t.Errorf("discovery within the hour = %v, want none", got)
	}
	// After an hour the cheap check: the time zone, the statuses and the
	// board list.
	check := map[string]int{"myself": 1, "status": 1, "agile/board": 1}
	if got := poll(time.Hour); !maps.Equal(got, check) {
		t.Errorf("discovery after an hour = %v, want %v", got, check)
	}
	// A board added in PAY: the next check reads it, and only it.
	e.fake.AddBoard(jirafake.Board{ID: 2, Name: "PAY kanban", Type: "kanban", Project: "PAY"}, "project = PAY")
	got := poll(2*time.Hour + time.Minute)
	if want := map[string]int{"myself": 1, "status": 1, "agile/board": 1, "agile/board/configuration": 1, "filter": 1}; !maps.Equal(got, want) {
		t.Errorf("discovery of a new board = %v, want %v", got, want)
	}
	if n := e.countRecords(KindBoard); n != 2 {
		t.Errorf("%d boards stored, want 2", n)
	}
	// A board removed: the check drops it, from memory and from the store.
	e.fake.DeleteBoard(2)
	if got := poll(3*time.Hour + 2*time.Minute); !maps.Equal(got, check) {
		t.Errorf("discovery of a removed board = %v, want %v", got, check)
	}
	if _, ok := e.srcBoard(2); ok || e.countRecords(KindBoard) != 1 {
		t.Errorf("board 2 is still there (%d boards stored)", e.countRecords(KindBoard))
	}
	// After a day everything, but the flavour (known).
	full := map[string]int{"myself": 1, "status": 1, "field": 1, "agile/board": 1, "agile/board/configuration": 1, "filter": 1}
	if got := poll(24*time.Hour + 2*time.Minute); !maps.Equal(got, full) {
		t.Errorf("discovery after a day = %v, want %v", got, full)
	}
	// A forced re-sync asks even the flavour again (and its full pass
	// counts the issues older than history).
	e.src.Resync()
	full["serverInfo"] = 1
	full["approximate-count"] = 1
	if got := poll(24*time.Hour + 3*time.Minute); !maps.Equal(got, full) {
		t.Errorf("discovery of a forced re-sync = %v, want %v", got, full)
	}
}

func (e *env) srcBoard(id int) (*jm.Board, bool) {
	e.src.mu.RLock()
	defer e.src.mu.RUnlock()
	return e.src.model.Board(id)
}

func TestAStatusUnknownToTheStoredListIsLearnedAndKept(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	// A status created since: the poll that meets it reads the list again.
	e.fake.AddStatus(jirafake.StatusDef{ID: "10100", Name: "Shipped", Category: "done"})
	must(e.fake.Transition("PAY-4", "10100", now.Add(time.Minute)))
	e.fake.ResetRequests()
	e.clk.Set(now.Add(10 * time.Minute))
	e.mustPoll()
	if got := e.fake.Requests()["status"]; got != 1 {
		t.Errorf("status lists read = %d, want 1", got)
	}
	if got := e.issue("PAY-4").Transitions; len(got) != 2 || got[1].To.Category != jm.CategoryDone {
		t.Errorf("PAY-4 transitions = %+v, want the move to Shipped as done", got)
	}
	// A restart knows the status from the store: another issue moving
	// there asks for nothing more.
	must(e.fake.Transition("PAY-3", "10100", now.Add(11*time.Minute)))
	e.src = e.newSource()
	e.fake.ResetRequests()
	e.clk.Set(now.Add(20 * time.Minute))
	e.mustPoll()
	if got := discoveryRequests(e); len(got) != 0 {
		t.Errorf("discovery after the restart = %v, want none", got)
	}
	if got := e.issue("PAY-3").Transitions; got[len(got)-1].To.Category != jm.CategoryDone {
		t.Errorf("PAY-3 transitions = %+v, want the move to Shipped as done", got)
	}
}

func TestANewBoardsUnknownFieldIsLookedUp(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	e.src = e.newSource()
	// A board estimating in a field created since: its name (changelog
	// items on Data Center carry only names) is read from the field list,
	// once.
	e.fake.AddField(jirafake.FieldDef{ID: "customfield_10099", Name: "Team points", Custom: true, SchemaType: "number"})
	e.fake.AddBoard(jirafake.Board{ID: 2, Name: "PAY team", Type: "scrum", Project: "PAY", EstimationField: "customfield_10099"}, "project = PAY")
	e.fake.AddBoard(jirafake.Board{ID: 3, Name: "PAY other team", Type: "scrum", Project: "PAY", EstimationField: "customfield_10099"}, "project = PAY")
	e.fake.ResetRequests()
	e.clk.Set(now.Add(time.Hour))
	e.mustPoll()
	if got := discoveryRequests(e)["field"]; got != 1 {
		t.Errorf("field lists read = %d, want 1", got)
	}
	e.src.siteMu.Lock()
	name := e.src.site.pointsFields["customfield_10099"]
	e.src.siteMu.Unlock()
	if name != "Team points" {
		t.Errorf("the new field's name = %q, want %q", name, "Team points")
	}
}

func TestAnotherConfigurationDiscoversAgain(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	e.spec.StoryPointsField = "customfield_10016"
	e.src = e.newSource()
	e.fake.ResetRequests()
	e.clk.Set(now.Add(10 * time.Minute))
	e.mustPoll()
	want := map[string]int{"serverInfo": 1, "myself": 1, "status": 1, "field": 1, "agile/board": 1, "agile/board/configuration": 1, "filter": 1}
	if got := discoveryRequests(e); !maps.Equal(got, want) {
		t.Errorf("discovery for another configuration = %v, want %v", got, want)
	}
}

func TestOneBoardListForAllProjects(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprintf("list without locations %v", legacy), func(t *testing.T) {
			clk := newClock(now)
			f := fixture(jirafake.Cloud, clk)
			f.BoardListWithoutLocation = legacy
			f.AddProject("WEB", "Web")
			f.AddBoard(jirafake.Board{ID: 5, Name: "WEB board", Type: "kanban", Project: "WEB"}, "project = WEB")
			f.AddBoard(jirafake.Board{ID: 6, Name: "OPS board", Type: "kanban", Project: "OPS"}, "project = OPS")
			// More boards than one page of the list holds.
			for i := range 60 {
				f.AddBoard(jirafake.Board{ID: 100 + i, Name: "OPS board", Type: "kanban", Project: "OPS"}, "project = OPS")
			}
			e := newEnv(t, f, clk, func(s *Spec) { s.Projects = []string{"PAY", "WEB"} })
			e.mustPoll()
			var ids []int
			e.src.mu.RLock()
			for _, b := range e.src.model.Boards() {
				ids = append(ids, b.ID)
			}
			e.src.mu.RUnlock()
			slices.Sort(ids)
			// The boards located in PAY and WEB, from the list of all 63
			// boards (two pages); a server that does not say where its
			// boards are is asked per project after its first page.
			lists := 2
			if legacy {
				lists = 3
			}
			if got := e.fake.Requests(); !slices.Equal(ids, []int{1, 5}) || got["agile/board"] != lists || got["agile/board/configuration"] != 2 {
				t.Errorf("boards %v after %v, want [1 5] from %d board lists", ids, got, lists)
			}
		})
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Result values, as they appear in the JSON report. The table prints FAIL in
// capitals so that failures stand out.
const (
	resultPass = "pass"
	resultFail = "fail"
	resultNA   = "n/a"
)

// reasons gives every check its stable dotted name and the one engine
// behaviour it protects. A check name that is not listed here is a bug in the
// runner, and record refuses it.
var reasons = map[string]string{
	"fixture.valid": "the suite can only drive the provider as the engine would when the fixture names " +
		"schema tokens and resolvable references",

	"startup.port_line": "the engine reads the port from the first stdout line and treats anything else " +
		"there as an error",
	"startup.handshake": "the engine boots a provider by dialing the announced port and calling Handshake " +
		"before anything else",
	"startup.plugin_info": "the engine calls GetPluginInfo right after boot and warns when the version " +
		"is not the one the package (schema) promised",
	"startup.sigint": "on shutdown the engine SIGINTs the plugin's process group and SIGKILLs it " +
		"5 s later",
	"startup.cancel_exit": "the engine sends Cancel before closing a plugin and takes an unacknowledged " +
		"Cancel or a plugin still alive 5 s after SIGINT for a crash",
	"startup.attach_twice": "with PULUMI_DEBUG_PROVIDERS every pulumi command attaches to the same " +
		"process, handshakes and configures it again",

	"schema.binds": "SDK generation binds the served schema and stops on any error diagnostic",
	"schema.documented": "generated SDKs and registry docs show these descriptions; an empty one " +
		"ships an undocumented API",
	"schema.matches_checked_in": "SDKs are generated from the checked-in schema while the engine " +
		"uses the served one; any difference makes the two drift",

	"config.unknowns_kept": "in a preview, config set from resources not yet created is unknown; " +
		"CheckConfig must accept it and keep it unknown",
	"config.diff_identical": "a DiffConfig change on unchanged config makes the engine replace the " +
		"provider and diff every resource it manages",
	"config.check_configure": "the engine calls CheckConfig then Configure on every provider before " +
		"any resource call and aborts on failures",
	"config.json_strings": "stack config reaches a default provider as strings, booleans, numbers and " +
		"objects as their JSON text, and must come back typed",
	"config.flags": "without acceptSecrets in Configure's answer the engine strips secrets before every " +
		"call; without supportsPreview it never sends a preview Create",

	"check.valid": "the engine calls Check on every registration and stops the deployment on any " +
		"failure",
	"check.idempotent": "the engine re-Checks recorded inputs on later runs; a Check that is not a " +
		"fixpoint shows diffs nobody made",
	"check.secrets_kept": "the engine stores Check's returned inputs in state; a dropped secret flag " +
		"stores the value in plain text",
	"check.unknowns_kept": "during preview the engine sends unknowns to Check and expects them back " +
		"unknown, neither guessed nor rejected",
	"check.invalid": "the engine prints Check failures against the property path; a gRPC error " +
		"instead aborts without naming the input",
	"create.preview": "pulumi preview calls Create with preview=true on inputs that may be unknown, " +
		"and an error fails the preview",
	"lifecycle.create": "the engine records the id and outputs that Create returns; an empty id is " +
		"an error",
	"lifecycle.outputs_secret": "the engine encrypts only outputs the provider returns as secrets, " +
		"and the schema, which SDKs and docs show, must mark exactly those",
	"lifecycle.outputs_typed": "SDKs decode outputs by their schema types; a value of another kind " +
		"breaks programs at run time",
	"diff.identical": "a second pulumi up with unchanged inputs must plan no change",
	"diff.update_in_place": "the engine updates in place when Diff reports changes without replaces, " +
		"then calls Update",
	"diff.replaces_exactly": "the engine replaces exactly when Diff lists replace keys; the schema's " +
		"replaceOnChanges tells users which inputs do",
	"lifecycle.read": "pulumi refresh writes back what Read returns; a different id or outputs " +
		"shows drift that is not there",
	"lifecycle.delete": "pulumi destroy calls Delete with the recorded id, inputs and outputs",
	"lifecycle.read_after_delete": "pulumi refresh drops a resource when Read returns an empty id; " +
		"an error instead blocks the refresh",

	"invoke.known": "the engine hands function results straight to the program; failures or " +
		"errors fail it",
	"invoke.secret_results": "the engine keeps function results secret only when the provider " +
		"marks them so",

	"failure.panic_contained": "a panic must come back as that call's error; a plugin that dies or " +
		"resets the stream fails every later call of the deployment without a reason",
	"failure.init_failed": "only ErrorResourceInitFailed with the id and state makes the engine keep a " +
		"half-made resource in state instead of losing it",
	"failure.cancel_prompt": "on Ctrl-C the engine sends Cancel and waits for operations in flight; one " +
		"that ignores Cancel holds the whole deployment",

	"hygiene.no_secret_leak": "whatever a provider logs, puts in errors or writes to stderr reaches " +
		"terminals and CI logs unencrypted",
}

// result is one line of the report.
type result struct {
	Check   string `json:"check"`
	Subject string `json:"subject"`
	Result  string `json:"result"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail"`
}

// report collects results in the order checks ran.
type report struct {
	results []result
}

func (r *report) record(check, subject, res, detail string) {
	reason, ok := reasons[check]
	if !ok {
		// Never silently: an unregistered name would ship without its reason.
		reason = "(unregistered check name)"
		res = resultFail
		detail = "runner bug: check " + check + " has no registered reason; " + detail
	}
	r.results = append(r.results, result{
		Check:   check,
		Subject: subject,
		Result:  res,
		Reason:  reason,
		Detail:  oneLine(detail),
	})
}

func (r *report) pass(check, subject, detail string) { r.record(check, subject, resultPass, detail) }
func (r *report) fail(check, subject, detail string) { r.record(check, subject, resultFail, detail) }
func (r *report) na(check, subject, detail string)   { r.record(check, subject, resultNA, detail) }

// renameSubject changes the subject of the results recorded so far.
func (r *report) renameSubject(from, to string) {
	for i := range r.results {
		if r.results[i].Subject == from {
			r.results[i].Subject = to
		}
	}
}

// verdict records pass when problems is empty and fail with the first few
// problems otherwise.
func (r *report) verdict(check, subject string, problems []string, passDetail string) {
	if len(problems) == 0 {
		r.pass(check, subject, passDetail)
		return
	}
	r.fail(check, subject, summarize(problems, 6))
}

// summarize joins up to max problems and says how many were left out.
func summarize(problems []string, max int) string {
	if len(problems) <= max {
		return strings.Join(problems, "; ")
	}
	return strings.Join(problems[:max], "; ") + fmt.Sprintf("; ... and %d more", len(problems)-max)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.ReplaceAll(s, "\n", " | ")
	s = strings.ReplaceAll(s, "\t", " ")
	return strings.TrimSpace(s)
}

// redact replaces every occurrence of a secret in the details, so that the
// report never repeats what the check is meant to keep out of logs.
func (r *report) redact(secrets []string) {
	if len(secrets) == 0 {
		return
	}
	// Longest first, so that a secret containing another is replaced whole.
	sorted := append([]string(nil), secrets...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for i := range r.results {
		for _, s := range sorted {
			r.results[i].Detail = strings.ReplaceAll(r.results[i].Detail, oneLine(s), "[secret]")
			r.results[i].Detail = strings.ReplaceAll(r.results[i].Detail, s, "[secret]")
		}
	}
}

// ordered returns the results grouped by subject, subjects in the order they
// first appeared and checks in the order they ran within each subject.
func (r *report) ordered() []result {
	first := map[string]int{}
	for i, res := range r.results {
		if _, ok := first[res.Subject]; !ok {
			first[res.Subject] = i
		}
	}
	out := append([]result(nil), r.results...)
	sort.SliceStable(out, func(i, j int) bool {
		return first[out[i].Subject] < first[out[j].Subject]
	})
	return out
}

func (r *report) counts() (passed, failed, na int) {
	for _, res := range r.results {
		switch res.Result {
		case resultPass:
			passed++
		case resultFail:
			failed++
		default:
			na++
		}
	}
	return passed, failed, na
}

// printTable writes one aligned line per result, then the totals line.
func (r *report) printTable(w io.Writer) {
	rows := r.ordered()
	checkWidth, subjectWidth := len("CHECK"), len("SUBJECT")
	for _, res := range rows {
		checkWidth = max(checkWidth, len(res.Check))
		subjectWidth = max(subjectWidth, len(res.Subject))
	}
	line := func(a, b, c, d string) {
		fmt.Fprintf(w, "%-6s  %-*s  %-*s  %s\n", a, checkWidth, b, subjectWidth, c, d)
	}
	line("RESULT", "CHECK", "SUBJECT", "REASON/DETAIL")
	for _, res := range rows {
		shown := res.Result
		if shown == resultFail {
			shown = "FAIL"
		}
		text := res.Detail
		if text == "" {
			text = res.Reason
		}
		line(shown, res.Check, res.Subject, text)
	}
	passed, failed, na := r.counts()
	fmt.Fprintf(w, "%d passed, %d failed, %d not applicable\n", passed, failed, na)
}

func (r *report) writeJSON(path string) error {
	rows := r.ordered()
	if rows == nil {
		rows = []result{}
	}
	data, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

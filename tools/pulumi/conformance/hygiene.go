package main

import (
	"fmt"
	"strings"
)

// haystack is one body of text the engine would show to users.
type haystack struct {
	name string
	text string
}

// needles returns what to look for: each secret whole, and each line of a
// multi-line secret (a PEM body line leaks as much as the whole key) that is
// long enough to be unique and not a PEM armour line.
func needles(secret string) []string {
	out := []string{secret}
	if !strings.Contains(secret, "\n") {
		return out
	}
	for _, line := range strings.Split(secret, "\n") {
		line = strings.TrimSpace(line)
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") && !strings.Contains(line, ":") {
			out = append(out, line)
		}
	}
	return out
}

// checkNoSecretLeak is hygiene.no_secret_leak.
func checkNoSecretLeak(rep *report, secrets map[string]bool, stacks []haystack) {
	const check = "hygiene.no_secret_leak"
	if len(secrets) == 0 {
		rep.na(check, "all", "no secret of 8 or more characters was seen")
		return
	}
	var problems []string
	total := 0
	for _, h := range stacks {
		total += len(h.text)
	}
	for _, s := range sortedKeys(secrets) {
		for _, n := range needles(s) {
			found := false
			for _, h := range stacks {
				if strings.Contains(h.text, n) {
					what := "a secret"
					if n != s {
						what = "a line of a secret"
					}
					// Never print the secret itself: its length and where.
					problems = append(problems, fmt.Sprintf("%s (%d characters) appears in %s", what, len(s), h.name))
					found = true
					break
				}
			}
			if found {
				break
			}
		}
	}
	var names []string
	for _, h := range stacks {
		names = append(names, fmt.Sprintf("%s %d B", h.name, len(h.text)))
	}
	rep.verdict(check, "all", problems, fmt.Sprintf("%d secret(s) absent from %s", len(secrets),
		strings.Join(names, ", ")))
}

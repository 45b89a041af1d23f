// Package check decodes deploy/k8s/*.yaml strictly into the Kubernetes
// API types: an unknown or misspelt field, or a value of the wrong type,
// fails. It is its own module so phonesim's module carries no k8s.io
// dependency. Run: cd deploy/k8s/check && go test ./...
package check

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func documents(t *testing.T, path string) [][]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(d, "")) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func TestManifestsStrict(t *testing.T) {
	paths, _ := filepath.Glob("../*.yaml")
	if len(paths) == 0 {
		t.Fatal("no manifests in deploy/k8s")
	}
	var job *batchv1.Job
	for _, p := range paths {
		for i, d := range documents(t, p) {
			var head struct{ Kind string }
			if err := yaml.Unmarshal(d, &head); err != nil {
				t.Fatalf("%s #%d: %v", p, i, err)
			}
			var obj any
			switch head.Kind {
			case "Job":
				job = &batchv1.Job{}
				obj = job
			case "ConfigMap":
				obj = &corev1.ConfigMap{}
			case "PersistentVolumeClaim":
				obj = &corev1.PersistentVolumeClaim{}
			default:
				t.Fatalf("%s #%d: kind %q not checked here", p, i, head.Kind)
			}
			if err := yaml.UnmarshalStrict(d, obj); err != nil {
				t.Errorf("%s #%d (%s): %v", p, i, head.Kind, err)
			}
		}
	}
	if job == nil {
		t.Fatal("no Job")
	}
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Error("the Job must be Indexed")
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions != *s.Parallelism {
		t.Error("completions and parallelism must be set and equal")
	}
	c := s.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	want := "--shard $(JOB_COMPLETION_INDEX)/" + itoa(*s.Completions)
	if c.Args[0] != "fleet" || !strings.Contains(args, want) {
		t.Errorf("args %q: want fleet … %s", args, want)
	}
	if sc := s.Template.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("pods must run as non-root")
	}
	if !bytes.Contains([]byte(args), []byte("--results /results/")) {
		t.Error("each shard must write its results to the shared volume")
	}
}

func itoa(n int32) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

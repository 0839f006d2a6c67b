// Checks the ledger's notes and proofs with Go's own golang.org/x/mod/sumdb/note and sumdb/tlog.
//
// Built by tests/ledger/test_go_interop.py (GOPATH mode, against Debian's golang-golang-x-mod-dev). Reads one
// JSON request on stdin and writes one JSON answer on stdout; an empty error string means Go accepted.
package main

import (
	"encoding/json"
	"os"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Index int64    `json:"index"`
	Size  int64    `json:"size"`
	Leaf  []byte   `json:"leaf"`
	Root  []byte   `json:"root"`
	Proof [][]byte `json:"proof"`
}

type consistency struct {
	First      int64    `json:"first"`
	Second     int64    `json:"second"`
	FirstRoot  []byte   `json:"first_root"`
	SecondRoot []byte   `json:"second_root"`
	Proof      [][]byte `json:"proof"`
}

type request struct {
	VerifierKeys  []string      `json:"verifier_keys"`
	Notes         []string      `json:"notes"`
	SignerKey     string        `json:"signer_key"`
	SignText      string        `json:"sign_text"`
	Records       [][]byte      `json:"records"`
	Inclusions    []inclusion   `json:"inclusions"`
	Consistencies []consistency `json:"consistencies"`
	TreeNote      string        `json:"tree_note"`
}

type opened struct {
	Error      string   `json:"error"`
	Text       string   `json:"text"`
	Signers    []string `json:"signers"`
	Unverified []string `json:"unverified"`
}

type answer struct {
	VerifierKeys  []string   `json:"verifier_keys"`
	Notes         []opened   `json:"notes"`
	Signed        string     `json:"signed"`
	Roots         [][]byte   `json:"roots"`
	RecordProofs  [][][]byte `json:"record_proofs"`
	TreeProofs    [][][]byte `json:"tree_proofs"`
	Inclusions    []string   `json:"inclusions"`
	Consistencies []string   `json:"consistencies"`
	TreeSize      int64      `json:"tree_size"`
	TreeHash      []byte     `json:"tree_hash"`
	TreeError     string     `json:"tree_error"`
}

type storage []tlog.Hash

func (s storage) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = s[x]
	}
	return out, nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func hash(b []byte) tlog.Hash {
	var h tlog.Hash
	copy(h[:], b)
	return h
}

func hashes(list [][]byte) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, b := range list {
		out[i] = hash(b)
	}
	return out
}

func bytesOf(list []tlog.Hash) [][]byte {
	out := make([][]byte, len(list))
	for i := range list {
		out[i] = list[i][:]
	}
	return out
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func main() {
	var req request
	must(json.NewDecoder(os.Stdin).Decode(&req))
	var ans answer

	var verifiers []note.Verifier
	for _, vkey := range req.VerifierKeys {
		v, err := note.NewVerifier(vkey)
		ans.VerifierKeys = append(ans.VerifierKeys, errText(err))
		if err == nil {
			verifiers = append(verifiers, v)
		}
	}
	for _, msg := range req.Notes {
		n, err := note.Open([]byte(msg), note.VerifierList(verifiers...))
		o := opened{Error: errText(err)}
		if err == nil {
			o.Text = n.Text
			for _, s := range n.Sigs {
				o.Signers = append(o.Signers, s.Name)
			}
			for _, s := range n.UnverifiedSigs {
				o.Unverified = append(o.Unverified, s.Name)
			}
		}
		ans.Notes = append(ans.Notes, o)
	}

	signer, err := note.NewSigner(req.SignerKey)
	must(err)
	signed, err := note.Sign(&note.Note{Text: req.SignText}, signer)
	must(err)
	ans.Signed = string(signed)

	// Go hashes the records itself and computes every root and every proof of its own.
	var stored storage
	for i, record := range req.Records {
		h, err := tlog.StoredHashes(int64(i), record, stored)
		must(err)
		stored = append(stored, h...)
	}
	for n := int64(1); n <= int64(len(req.Records)); n++ {
		root, err := tlog.TreeHash(n, stored)
		must(err)
		ans.Roots = append(ans.Roots, root[:])
	}
	for _, c := range req.Inclusions {
		ans.Inclusions = append(ans.Inclusions, errText(tlog.CheckRecord(hashes(c.Proof), c.Size, hash(c.Root), c.Index, hash(c.Leaf))))
		var mine [][]byte // stays empty for a tree larger than the records given
		if c.Size <= int64(len(req.Records)) && 0 <= c.Index && c.Index < c.Size {
			proof, err := tlog.ProveRecord(c.Size, c.Index, stored)
			must(err)
			mine = bytesOf(proof)
		}
		ans.RecordProofs = append(ans.RecordProofs, mine)
	}
	for _, c := range req.Consistencies {
		ans.Consistencies = append(ans.Consistencies, errText(tlog.CheckTree(hashes(c.Proof), c.Second, hash(c.SecondRoot), c.First, hash(c.FirstRoot))))
		var mine [][]byte
		if c.Second <= int64(len(req.Records)) && 1 <= c.First && c.First <= c.Second {
			proof, err := tlog.ProveTree(c.Second, c.First, stored)
			must(err)
			mine = bytesOf(proof)
		}
		ans.TreeProofs = append(ans.TreeProofs, mine)
	}

	tree, err := tlog.ParseTree([]byte(req.TreeNote))
	ans.TreeSize, ans.TreeHash, ans.TreeError = tree.N, tree.Hash[:], errText(err)

	must(json.NewEncoder(os.Stdout).Encode(&ans))
}

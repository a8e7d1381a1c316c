package tabulate

import "github.com/vigil-elections/vigil"

// Formats recognised but not read yet. They fail loudly rather than
// import nothing.

func (r *Reader) readDominionJSON(f File, fn func(*vigil.CastVoteRecord) error) error {
	return parseErr(opImport, f.Name, 0, "", "Dominion JSON CvrExport files are not supported yet; export the tabular CSV CVR instead")
}

func (r *Reader) readNIST(f File, fn func(*vigil.CastVoteRecord) error) error {
	return parseErr(opImport, f.Name, 0, "", "NIST SP 1500-103 cast vote records are not supported yet")
}

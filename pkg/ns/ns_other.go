//go:build !linux

package ns

// On other systems the pure parts (kinds, IDs, parsing, Aggregate) work and
// everything that reads the kernel returns ErrUnsupported.

func ProcDir(pid int) string                                { return "" }
func Path(pid int, k Kind) string                           { return "" }
func Supported(k Kind) bool                                 { return false }
func Get(pid int, k Kind) (ID, error)                       { return ID{}, ErrUnsupported }
func GetPath(path string) (ID, error)                       { return ID{}, ErrUnsupported }
func Of(pid int) (Set, error)                               { return Set{}, ErrUnsupported }
func List() ([]Info, error)                                 { return nil, ErrUnsupported }
func Do(pid int, kinds []Kind, fn func() error) error       { return ErrUnsupported }
func DoDir(dir string, kinds []Kind, fn func() error) error { return ErrUnsupported }
func OfDir(dir string) (Set, error)                         { return Set{}, ErrUnsupported }
func Open(pid int, k Kind) (*Handle, error)                 { return nil, ErrUnsupported }
func OpenPath(path string) (*Handle, error)                 { return nil, ErrUnsupported }
func TimeOffsets(pid int) (Offsets, error)                  { return Offsets{}, ErrUnsupported }

// Handle is an open namespace file; on this system none can be opened.
type Handle struct{ id ID }

func (h *Handle) ID() ID                   { return h.id }
func (h *Handle) Fd() int                  { return -1 }
func (h *Handle) Close() error             { return nil }
func (h *Handle) String() string           { return h.id.String() }
func (h *Handle) Type() (Kind, error)      { return "", ErrUnsupported }
func (h *Handle) UserNS() (*Handle, error) { return nil, ErrUnsupported }
func (h *Handle) Parent() (*Handle, error) { return nil, ErrUnsupported }
func (h *Handle) OwnerUID() (int, error)   { return -1, ErrUnsupported }

package imresize

import "github.com/addsr-bench/addsr-bench/internal/img"

// Image resizes each channel of m by scale with MATLAB's bicubic. The result
// is float (not clamped or rounded); save or Quantized() rounds it to 8 bits
// as MATLAB's imresize does for uint8 input.
func Image(m *img.Image, scale float64) (*img.Image, error) {
	var out *img.Image
	for c := 0; c < 3; c++ {
		p := NewPlane(m.W, m.H)
		for i, v := range m.Planes[c] {
			p.Pix[i] = float64(v)
		}
		r, err := Scale(p, scale, true)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = img.New(r.W, r.H)
		}
		for i, v := range r.Pix {
			out.Planes[c][i] = float32(v)
		}
	}
	return out, nil
}

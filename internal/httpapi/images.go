package httpapi

import (
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/upstream"
)

// imageDefault is the size and quality an image generation that names
// none is priced at: "auto", the GPT image models' default for both. A
// model whose upstream defaults otherwise (dall-e-2 and -3 draw
// 1024x1024 at standard quality) is priced by its "default" entry, or by
// the plain SIZE entry for the quality.
const imageDefault = "auto"

// imagePrice returns price with PerImage set for an image generation
// (docs/design.md §2): from the model's image table, the entry
// "SIZE/QUALITY", else "SIZE", else "default"; a size or quality the
// request leaves out is "auto". A request that no entry prices is refused
// (image_not_priced), naming both: a model without a table generates no
// priced images.
func imagePrice(info upstream.RequestInfo, price meter.Price) (meter.Price, error) {
	size, quality := info.ImageSize, info.ImageQuality
	if size == "" {
		size = imageDefault
	}
	if quality == "" {
		quality = imageDefault
	}
	for _, key := range [...]string{size + "/" + quality, size, "default"} {
		if p, ok := price.Images[key]; ok {
			price.PerImage = p
			return price, nil
		}
	}
	return price, meter.Errorf(meter.ECodeImageNotPriced, "model %q has no price for images of size %q and quality %q",
		info.Model, size, quality).WithDetail("model", info.Model).WithDetail("size", size).WithDetail("quality", quality)
}

// imagesHeld caps the images an answer reports at the n the request asked
// for and the hold covers: an upstream that returns more is not believed
// beyond what was priced.
func imagesHeld(m *metered, u meter.Usage) meter.Usage {
	if m.route.api == upstream.APIImages {
		u.Images = min(u.Images, max(m.info.N, 1))
	}
	return u
}

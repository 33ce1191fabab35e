package httpapi

import (
	"strings"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/upstream"
)

// imageDefault is the size and quality an image generation that names
// none is priced at: "auto", the GPT image models' default for both. A
// model whose upstream defaults otherwise (dall-e-2 and -3 draw
// 1024x1024 at standard quality) is priced by its "default" entry, or by
// a plain SIZE entry.
const imageDefault = "auto"

// imagePrice returns price with PerImage set for an image generation
// (docs/design.md §2a), from the model's image table: the entry
// "SIZE/QUALITY"; else the plain "SIZE" entry, but only when the table
// has no "SIZE/…" entry for that size (its price does not depend on the
// quality: a quality it does not list might be drawn dearer than any it
// does); else "default", but only when the table has no entry for that
// size at all. A size or quality the request leaves out is "auto" (which
// the upstream may draw at its dearest). A request that no entry prices
// is refused (image_not_priced), naming both: a model without a table
// generates no priced images.
func imagePrice(info upstream.RequestInfo, price meter.Price) (meter.Price, error) {
	size, quality := info.ImageSize, info.ImageQuality
	if size == "" {
		size = imageDefault
	}
	if quality == "" {
		quality = imageDefault
	}
	p, ok := price.Images[size+"/"+quality]
	if !ok {
		p, ok = sizePrice(price.Images, size)
	}
	if ok {
		price.PerImage = p
		return price, nil
	}
	return price, meter.Errorf(meter.ECodeImageNotPriced, "model %q has no price for images of size %q and quality %q",
		info.Model, size, quality).WithDetail("model", info.Model).WithDetail("size", size).WithDetail("quality", quality)
}

// sizePrice is the price of an image of size whose quality the table does
// not list: its plain "SIZE" entry when it has no "SIZE/…" one, else none;
// "default" when the table has no entry for the size at all.
func sizePrice(table map[string]meter.Amount, size string) (meter.Amount, bool) {
	plain, hasPlain := table[size]
	for key := range table {
		if strings.HasPrefix(key, size+"/") {
			return 0, false // priced by quality, and not this one
		}
	}
	if hasPlain {
		return plain, true
	}
	p, ok := table["default"]
	return p, ok
}

// imagesHeld is the usage an image generation is charged for
// (upstream.RequestInfo.ImagesCharged): the images the answer reports,
// never more than the n the hold covers, and the prompt's input tokens
// for a model that prices input.
func imagesHeld(m *metered, u meter.Usage) meter.Usage {
	if m.route.api == upstream.APIImages {
		u = m.info.ImagesCharged(m.price, u)
	}
	return u
}

#ifndef CLIP_IMAGE_CODECS_H
#define CLIP_IMAGE_CODECS_H

/*
 * JPEG and PNG decoding from memory into 8-bit interleaved RGB, as Pillow's
 * `Image.open(...).convert("RGB")` gives it, plus the alpha plane when the file has one.
 *
 * libjpeg and libpng report fatal errors by longjmp (and by default print warnings and exit):
 * here every error is caught with setjmp and returned as a status and a one-line message in a
 * caller-provided buffer. Nothing is ever printed and the process never exits.
 *
 * Every decode is independent (no global state): safe to call from several threads at once.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
typedef enum clip_status {
    CLIP_OK = 0,
    CLIP_ERR_EMPTY = 1,          /* zero bytes */
    CLIP_ERR_UNKNOWN_FORMAT = 2, /* magic bytes are neither JPEG nor PNG */
    CLIP_ERR_TRUNCATED = 3,      /* data ends before the image does */
    CLIP_ERR_CORRUPT = 4,        /* the codec library rejected the data */
    CLIP_ERR_UNSUPPORTED = 5,    /* a valid file this decoder does not handle (CMYK JPEG, ...) */
    CLIP_ERR_TOO_LARGE = 6,      /* more pixels than the caller's limit, or zero width/height */
    CLIP_ERR_NO_MEMORY = 7,
} clip_status;

typedef enum clip_format {
    CLIP_FORMAT_UNKNOWN = 0,
    CLIP_FORMAT_JPEG = 1,
    CLIP_FORMAT_PNG = 2,
} clip_format;

/* A decoded image. `rgb` holds width*height*3 bytes, rows top to bottom, R G B per pixel.
 * `alpha` is NULL unless the image carries transparency (an alpha channel, or a PNG tRNS chunk),
 * in which case it holds width*height bytes (255 = opaque). Free with clip_image_free. */
typedef struct clip_image {
    uint32_t width;
    uint32_t height;
    uint8_t *rgb;
    uint8_t *alpha;
    clip_format format;
} clip_image;

/* Detects the format from the first bytes (never from a file name). */
clip_format clip_detect_format(const uint8_t *data, size_t size);

/* Decodes `data` (JPEG or PNG). Images with more than `max_pixels` pixels, or with a zero
 * dimension, are refused from their header, before any pixel memory is allocated.
 *
 * Conversions (matching Pillow's decoders followed by convert("RGB")):
 *   JPEG  baseline/progressive, YCbCr or RGB → RGB (libjpeg defaults: islow DCT, fancy
 *         upsampling); greyscale → R=G=B. CMYK/YCCK are refused (CLIP_ERR_UNSUPPORTED).
 *         A truncated JPEG is an error (libjpeg would pad it with grey).
 *   PNG   grey (1/2/4/8-bit, scaled to 0..255) → R=G=B; palette → expanded; 16-bit samples →
 *         their high byte (v >> 8; for 16-bit grey this is a deliberate departure from Pillow,
 *         which clips I;16 at 255); interlaced (Adam7) handled. Alpha channels and tRNS
 *         transparency are returned separately in `alpha`, never composited. No gamma, no
 *         colour management, no EXIF orientation.
 *
 * Returns CLIP_OK and fills *out, or an error status with a NUL-terminated one-line message in
 * errbuf (truncated to errbuf_size) and *out zeroed. */
clip_status clip_decode_image(const uint8_t *data, size_t size, uint64_t max_pixels,
                              clip_image *out, char *errbuf, size_t errbuf_size);

/* The width and height a JPEG or PNG header gives, without decoding; then the same pixel-limit
 * check as clip_decode_image, with the same message (so an image whose embedding comes from a
 * cache is refused exactly as decoding it would be). CLIP_ERR_CORRUPT (no message) when the header
 * cannot be read. */
clip_status clip_image_size(const uint8_t *data, size_t size, uint64_t max_pixels, uint64_t *width, uint64_t *height,
                            char *errbuf, size_t errbuf_size);

/* Frees the pixel buffers of an image filled by clip_decode_image (safe on a zeroed struct). */
void clip_image_free(clip_image *image);

#ifdef __cplusplus
}
#endif

#endif

/*
 * JPEG/PNG decoding into 8-bit RGB for clip-audit. See include/clip_image_codecs.h.
 *
 * Error handling: libjpeg's error_exit and libpng's error callback longjmp back to a setjmp in
 * the decode function of this file, which cleans up and returns a status and a message. Warnings
 * are never printed; the only warning that matters (libjpeg's "Premature end of JPEG file",
 * after which it pads the image with grey) is turned into a "truncated" error, as Pillow does
 * with its default LOAD_TRUNCATED_IMAGES = False.
 *
 * State touched between setjmp and longjmp lives in heap/caller memory or in structs passed by
 * pointer (never in non-volatile locals), so it is valid after the jump.
 */
#include "clip_image_codecs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

static void set_error(char *errbuf, size_t errbuf_size, const char *fmt, ...) {
    if (!errbuf || errbuf_size == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errbuf_size, fmt, ap);
    va_end(ap);
    /* One line: libraries' messages never contain newlines, but make sure. */
    for (char *p = errbuf; *p; p++) {
        if (*p == '\n' || *p == '\r') *p = ' ';
    }
}

clip_format clip_detect_format(const uint8_t *data, size_t size) {
    if (data && size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return CLIP_FORMAT_JPEG;
    if (data && size >= 8 && memcmp(data, png_signature, 8) == 0) return CLIP_FORMAT_PNG;
    return CLIP_FORMAT_UNKNOWN;
}

void clip_image_free(clip_image *image) {
    if (!image) return;
    free(image->rgb);
    free(image->alpha);
    image->rgb = NULL;
    image->alpha = NULL;
    image->width = image->height = 0;
}

/* Refuses zero-sized images and images above the pixel limit, from header dimensions only. */
static clip_status check_dimensions(uint64_t width, uint64_t height, uint64_t max_pixels,
                                    char *errbuf, size_t errbuf_size) {
    if (width == 0 || height == 0) {
        set_error(errbuf, errbuf_size, "image has a zero dimension (%llux%llu)",
                  (unsigned long long)width, (unsigned long long)height);
        return CLIP_ERR_TOO_LARGE;
    }
    uint64_t pixels = width * height; /* both < 2^32: no overflow */
    if (pixels > max_pixels) {
        set_error(errbuf, errbuf_size,
                  "image too large: %llux%llu = %llu pixels, above the limit of %llu pixels",
                  (unsigned long long)width, (unsigned long long)height,
                  (unsigned long long)pixels, (unsigned long long)max_pixels);
        return CLIP_ERR_TOO_LARGE;
    }
    return CLIP_OK;
}

/* MARK: JPEG */

typedef struct jpeg_ctx {
    struct jpeg_error_mgr pub; /* must be first: libjpeg sees a jpeg_error_mgr* */
    jmp_buf jump;
    int premature_eof;         /* libjpeg warned JWRN_JPEG_EOF: the data ran out */
    char message[JMSG_LENGTH_MAX];
} jpeg_ctx;

static void jpeg_ctx_error_exit(j_common_ptr cinfo) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, ctx->message);
    longjmp(ctx->jump, 1);
}

static void jpeg_ctx_emit_message(j_common_ptr cinfo, int msg_level) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    if (msg_level < 0) { /* a warning: note it, never print it */
        cinfo->err->num_warnings++;
        if (cinfo->err->msg_code == JWRN_JPEG_EOF) ctx->premature_eof = 1;
    }
}

static void jpeg_ctx_output_message(j_common_ptr cinfo) { (void)cinfo; }

/* Zeroes cinfo and ctx and installs ctx's error manager (errors longjmp to ctx.jump, which the
 * caller must set before any libjpeg call). */
static void jpeg_ctx_init(struct jpeg_decompress_struct *cinfo, jpeg_ctx *ctx) {
    memset(cinfo, 0, sizeof *cinfo);
    memset(ctx, 0, sizeof *ctx);
    cinfo->err = jpeg_std_error(&ctx->pub);
    ctx->pub.error_exit = jpeg_ctx_error_exit;
    ctx->pub.emit_message = jpeg_ctx_emit_message;
    ctx->pub.output_message = jpeg_ctx_output_message;
}

static const char *jpeg_color_space_name(J_COLOR_SPACE cs) {
    switch (cs) {
    case JCS_GRAYSCALE: return "greyscale";
    case JCS_RGB: return "RGB";
    case JCS_YCbCr: return "YCbCr";
    case JCS_CMYK: return "CMYK";
    case JCS_YCCK: return "YCCK";
    default: return "unknown";
    }
}

static clip_status decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels,
                               clip_image *out, char *errbuf, size_t errbuf_size) {
    struct jpeg_decompress_struct cinfo;
    jpeg_ctx ctx;
    jpeg_ctx_init(&cinfo, &ctx);

    if (setjmp(ctx.jump)) {
        clip_status status = ctx.premature_eof ? CLIP_ERR_TRUNCATED : CLIP_ERR_CORRUPT;
        if (status == CLIP_ERR_TRUNCATED) {
            set_error(errbuf, errbuf_size, "truncated (libjpeg: Premature end of JPEG file; then: %s)", ctx.message);
        } else {
            set_error(errbuf, errbuf_size, "corrupt JPEG data (libjpeg: %s)", ctx.message);
        }
        jpeg_destroy_decompress(&cinfo);
        clip_image_free(out);
        return status;
    }

    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);

    clip_status status = check_dimensions(cinfo.image_width, cinfo.image_height, max_pixels, errbuf, errbuf_size);
    if (status != CLIP_OK) {
        jpeg_destroy_decompress(&cinfo);
        return status;
    }

    int grey = 0;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo.out_color_space = JCS_GRAYSCALE;
        grey = 1;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        cinfo.out_color_space = JCS_RGB;
        break;
    default:
        set_error(errbuf, errbuf_size,
                  "unsupported JPEG colour space %s (%d components); convert the image to RGB first",
                  jpeg_color_space_name(cinfo.jpeg_color_space), cinfo.num_components);
        jpeg_destroy_decompress(&cinfo);
        return CLIP_ERR_UNSUPPORTED;
    }
    /* libjpeg's defaults, which Pillow also uses: islow DCT, fancy upsampling, no scaling. */
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;
    cinfo.scale_num = cinfo.scale_denom = 1;

    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != (grey ? 1 : 3)) {
        set_error(errbuf, errbuf_size, "unexpected JPEG output with %d components", cinfo.output_components);
        jpeg_destroy_decompress(&cinfo);
        return CLIP_ERR_UNSUPPORTED;
    }
    size_t width = cinfo.output_width, height = cinfo.output_height;
    out->width = (uint32_t)width;
    out->height = (uint32_t)height;
    out->format = CLIP_FORMAT_JPEG;
    out->rgb = malloc(width * height * 3);
    if (!out->rgb) {
        set_error(errbuf, errbuf_size, "out of memory for a %zux%zu image", width, height);
        jpeg_destroy_decompress(&cinfo);
        clip_image_free(out);
        return CLIP_ERR_NO_MEMORY;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *row = out->rgb + (size_t)cinfo.output_scanline * width * 3;
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&cinfo, rows, 1);
        if (grey) {
            /* The row was written as width grey bytes at its start: spread them from the end. */
            for (size_t x = width; x-- > 0;) {
                uint8_t v = row[x];
                row[3 * x] = row[3 * x + 1] = row[3 * x + 2] = v;
            }
        }
    }
    if (ctx.premature_eof) {
        /* libjpeg filled the missing part with grey: refuse, like Pillow. */
        set_error(errbuf, errbuf_size, "truncated (libjpeg: Premature end of JPEG file)");
        jpeg_destroy_decompress(&cinfo);
        clip_image_free(out);
        return CLIP_ERR_TRUNCATED;
    }
    /* No jpeg_finish_decompress: all scanlines are in; what follows them is not our concern. */
    jpeg_destroy_decompress(&cinfo);
    return CLIP_OK;
}

/* MARK: PNG */

typedef struct png_ctx {
    jmp_buf jump;
    const uint8_t *data;
    size_t size;
    size_t pos;
    int truncated;
    char message[256];
    uint8_t *buffer;      /* interleaved RGB or RGBA rows while decoding */
    png_bytep *rows;
} png_ctx;

static void png_ctx_read(png_structp png, png_bytep dest, size_t length) {
    png_ctx *ctx = (png_ctx *)png_get_io_ptr(png);
    if (ctx->size - ctx->pos < length) {
        ctx->truncated = 1;
        png_error(png, "unexpected end of data");
    }
    memcpy(dest, ctx->data + ctx->pos, length);
    ctx->pos += length;
}

static void png_ctx_error(png_structp png, png_const_charp message) {
    png_ctx *ctx = (png_ctx *)png_get_error_ptr(png);
    snprintf(ctx->message, sizeof ctx->message, "%s", message ? message : "unknown error");
    png_longjmp(png, 1);
}

static void png_ctx_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static uint32_t read_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static clip_status decode_png(const uint8_t *data, size_t size, uint64_t max_pixels,
                              clip_image *out, char *errbuf, size_t errbuf_size) {
    /* Check the IHDR dimensions ourselves first: refuse before libpng reads (or allocates)
     * anything. Layout: signature(8) length(4) "IHDR"(4) width(4) height(4) ... */
    if (size < 8 + 8 + 8) {
        set_error(errbuf, errbuf_size, "truncated (PNG file of %zu bytes ends inside its header)", size);
        return CLIP_ERR_TRUNCATED;
    }
    if (memcmp(data + 12, "IHDR", 4) != 0) {
        set_error(errbuf, errbuf_size, "corrupt PNG data (first chunk is not IHDR)");
        return CLIP_ERR_CORRUPT;
    }
    clip_status status = check_dimensions(read_be32(data + 16), read_be32(data + 20), max_pixels, errbuf, errbuf_size);
    if (status != CLIP_OK) return status;

    png_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        set_error(errbuf, errbuf_size, "out of memory");
        return CLIP_ERR_NO_MEMORY;
    }
    ctx->data = data;
    ctx->size = size;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, png_ctx_error, png_ctx_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        free(ctx);
        set_error(errbuf, errbuf_size, "out of memory");
        return CLIP_ERR_NO_MEMORY;
    }
    /* `png` and `info` are not modified after setjmp, so they are valid after a longjmp. */
    if (setjmp(png_jmpbuf(png))) {
        clip_status err = ctx->truncated ? CLIP_ERR_TRUNCATED : CLIP_ERR_CORRUPT;
        if (err == CLIP_ERR_TRUNCATED) {
            set_error(errbuf, errbuf_size, "truncated (libpng: %s)", ctx->message);
        } else {
            set_error(errbuf, errbuf_size, "corrupt PNG data (libpng: %s)", ctx->message);
        }
        png_destroy_read_struct(&png, &info, NULL);
        free(ctx->buffer);
        free(ctx->rows);
        free(ctx);
        clip_image_free(out);
        return err;
    }

    png_set_read_fn(png, ctx, png_ctx_read);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);

    /* Transformations, none of which touches gamma. 16-bit samples keep their high byte
     * (Pillow's RGB;16B / RGBA;16B / LA;16B unpackers do the same). */
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (bit_depth == 16) png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if ((channels != 3 && channels != 4) || png_get_bit_depth(png, info) != 8 || rowbytes != (size_t)width * channels) {
        png_ctx_error(png, "unexpected pixel layout after conversion"); /* does not return */
    }
    ctx->buffer = malloc(rowbytes * height);
    ctx->rows = malloc(sizeof(png_bytep) * height);
    if (!ctx->buffer || !ctx->rows) png_ctx_error(png, "out of memory");
    for (size_t y = 0; y < height; y++) ctx->rows[y] = ctx->buffer + y * rowbytes;
    png_read_image(png, ctx->rows);
    /* No png_read_end: chunks after the image data do not change the pixels. */

    size_t npix = (size_t)width * height;
    out->width = width;
    out->height = height;
    out->format = CLIP_FORMAT_PNG;
    if (channels == 3) {
        out->rgb = ctx->buffer;
        ctx->buffer = NULL;
    } else {
        out->alpha = malloc(npix);
        if (!out->alpha) png_ctx_error(png, "out of memory");
        uint8_t *src = ctx->buffer;
        for (size_t i = 0; i < npix; i++) { /* compact RGBA → RGB in place, alpha aside */
            src[3 * i] = src[4 * i];
            src[3 * i + 1] = src[4 * i + 1];
            src[3 * i + 2] = src[4 * i + 2];
            out->alpha[i] = src[4 * i + 3];
        }
        uint8_t *shrunk = realloc(ctx->buffer, npix * 3);
        out->rgb = shrunk ? shrunk : ctx->buffer;
        ctx->buffer = NULL;
    }
    png_destroy_read_struct(&png, &info, NULL);
    free(ctx->rows);
    free(ctx);
    return CLIP_OK;
}

/* MARK: Entry point */

static const char *guess_other_format(const uint8_t *d, size_t n) {
    if (n >= 4 && memcmp(d, "GIF8", 4) == 0) return "GIF";
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) return "WebP";
    if (n >= 2 && d[0] == 'B' && d[1] == 'M') return "BMP";
    if (n >= 4 && (memcmp(d, "II*\0", 4) == 0 || memcmp(d, "MM\0*", 4) == 0)) return "TIFF";
    if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0) return "HEIF/AVIF or MP4";
    return NULL;
}

/* The header's width and height, for clip_image_size; 0 when it cannot be read. */
static void jpeg_header_size(const uint8_t *data, size_t size, uint64_t *width, uint64_t *height) {
    struct jpeg_decompress_struct cinfo;
    jpeg_ctx ctx;
    jpeg_ctx_init(&cinfo, &ctx);
    if (setjmp(ctx.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    *width = cinfo.image_width;
    *height = cinfo.image_height;
    jpeg_destroy_decompress(&cinfo);
}

clip_status clip_image_size(const uint8_t *data, size_t size, uint64_t max_pixels, uint64_t *width, uint64_t *height,
                            char *errbuf, size_t errbuf_size) {
    if (errbuf && errbuf_size) errbuf[0] = '\0';
    *width = 0;
    *height = 0;
    if (!data || size == 0) return CLIP_ERR_EMPTY;
    switch (clip_detect_format(data, size)) {
    case CLIP_FORMAT_JPEG: jpeg_header_size(data, size, width, height); break;
    case CLIP_FORMAT_PNG:
        if (size >= 8 + 8 + 8 && memcmp(data + 12, "IHDR", 4) == 0) {
            *width = read_be32(data + 16);
            *height = read_be32(data + 20);
        }
        break;
    default: break;
    }
    if (*width == 0 || *height == 0) return CLIP_ERR_CORRUPT;
    return check_dimensions(*width, *height, max_pixels, errbuf, errbuf_size);
}

clip_status clip_decode_image(const uint8_t *data, size_t size, uint64_t max_pixels,
                              clip_image *out, char *errbuf, size_t errbuf_size) {
    if (errbuf && errbuf_size) errbuf[0] = '\0';
    if (!out) return CLIP_ERR_CORRUPT;
    memset(out, 0, sizeof *out);
    if (!data || size == 0) {
        set_error(errbuf, errbuf_size, "empty file (0 bytes)");
        return CLIP_ERR_EMPTY;
    }
    switch (clip_detect_format(data, size)) {
    case CLIP_FORMAT_JPEG: return decode_jpeg(data, size, max_pixels, out, errbuf, errbuf_size);
    case CLIP_FORMAT_PNG: return decode_png(data, size, max_pixels, out, errbuf, errbuf_size);
    default: break;
    }
    /* A file cut inside its signature is truncated, not foreign. */
    if ((size < 8 && memcmp(data, png_signature, size) == 0) || (size < 3 && data[0] == 0xFF && (size < 2 || data[1] == 0xD8))) {
        set_error(errbuf, errbuf_size, "truncated (%zu bytes, ends inside the %s signature)", size,
                  data[0] == 0xFF ? "JPEG" : "PNG");
        return CLIP_ERR_TRUNCATED;
    }
    char hex[3 * 4 + 1] = {0};
    size_t shown = size < 4 ? size : 4, pos = 0;
    for (size_t i = 0; i < shown; i++) {
        pos += (size_t)snprintf(hex + pos, sizeof hex - pos, i ? " %02X" : "%02X", data[i]);
    }
    const char *other = guess_other_format(data, size);
    if (other) {
        set_error(errbuf, errbuf_size, "not a JPEG or PNG file (starts with %s); looks like %s", hex, other);
    } else {
        set_error(errbuf, errbuf_size, "not a JPEG or PNG file (starts with %s)", hex);
    }
    return CLIP_ERR_UNKNOWN_FORMAT;
}

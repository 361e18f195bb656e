/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend.h - the backends zblk_comp.c registers (crypto/ internal).
 */
#ifndef ZBLK_BACKEND_H
#define ZBLK_BACKEND_H

#include "zblk_comp.h"

extern const struct zblk_backend zblk_backend_lz4;
extern const struct zblk_backend zblk_backend_lz4hc;
extern const struct zblk_backend zblk_backend_zstd;

#endif /* ZBLK_BACKEND_H */

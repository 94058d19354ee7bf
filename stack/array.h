/* Growing an array by doubling. */
#ifndef TUNTCP_ARRAY_H
#define TUNTCP_ARRAY_H

#include <errno.h>
#include <stdlib.h>

/* Makes room for n elements of `size` bytes in *array (capacity *cap,
 * at least 64 once grown): 0 or -ENOMEM, the array unchanged. */
static inline int array_reserve(void *array, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < n)
        c *= 2;
    void *p = realloc(*(void **)array, c * size);
    if (!p)
        return -ENOMEM;
    *(void **)array = p;
    *cap = c;
    return 0;
}

#endif

/* A binary min-heap of sockets by deadline: the stack's next deadline is
 * its top, and arming or moving a timer costs O(log n). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "array.h"
#include "stack_internal.h"

int heap_reserve(struct stack *s, size_t n)
{
    return array_reserve(&s->heap, &s->heap_cap, n, sizeof *s->heap);
}

static void heap_place(struct stack *s, size_t i, struct sock *k)
{
    s->heap[i] = k;
    k->heap_idx = i;
}

static void sift_up(struct stack *s, size_t i)
{
    struct sock *k = s->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (s->heap[parent]->deadline <= k->deadline)
            break;
        heap_place(s, i, s->heap[parent]);
        i = parent;
    }
    heap_place(s, i, k);
}

static void sift_down(struct stack *s, size_t i)
{
    struct sock *k = s->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= s->heap_len)
            break;
        if (child + 1 < s->heap_len &&
            s->heap[child + 1]->deadline < s->heap[child]->deadline)
            child++;
        if (s->heap[child]->deadline >= k->deadline)
            break;
        heap_place(s, i, s->heap[child]);
        i = child;
    }
    heap_place(s, i, k);
}

static void heap_remove(struct stack *s, struct sock *k)
{
    size_t i = k->heap_idx;
    struct sock *last = s->heap[--s->heap_len];
    k->heap_idx = SIZE_MAX;
    if (last == k)
        return;
    heap_place(s, i, last);
    sift_up(s, i);
    sift_down(s, last->heap_idx);
}

void heap_set(struct stack *s, struct sock *k, uint64_t deadline)
{
    bool in_heap = k->heap_idx != SIZE_MAX;
    if (in_heap && deadline) {
        k->deadline = deadline;
        sift_up(s, k->heap_idx);
        sift_down(s, k->heap_idx);
        return;
    }
    if (in_heap)
        heap_remove(s, k);
    k->deadline = deadline;
    if (deadline) {
        /* heap_reserve made room when the socket was created */
        heap_place(s, s->heap_len++, k);
        sift_up(s, k->heap_idx);
    }
}

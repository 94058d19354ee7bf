/* An intrusive singly-headed, doubly linked list (as Linux's hlist): a
 * node removes itself in O(1) without knowing its list head. */
#ifndef TUNTCP_HLIST_H
#define TUNTCP_HLIST_H

#include <stddef.h>

struct hnode {
    struct hnode *next, **pprev;   /* pprev == NULL: not on a list */
};

#define hnode_entry(node, type, member) \
    ((type *)(void *)((char *)(node) - offsetof(type, member)))

static inline void hlist_add(struct hnode **head, struct hnode *n)
{
    n->next = *head;
    if (*head)
        (*head)->pprev = &n->next;
    *head = n;
    n->pprev = head;
}

static inline void hlist_del(struct hnode *n)
{
    if (!n->pprev)
        return;
    *n->pprev = n->next;
    if (n->next)
        n->next->pprev = n->pprev;
    n->next = NULL;
    n->pprev = NULL;
}

static inline int hnode_linked(const struct hnode *n)
{
    return n->pprev != NULL;
}

#endif

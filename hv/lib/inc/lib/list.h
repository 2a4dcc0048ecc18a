/*
 * Intrusive circular doubly-linked list. A list head is a plain
 * struct list_node whose next/prev point to itself when the list is empty;
 * elements embed a struct list_node and are recovered with container_of().
 */
#ifndef LIB_LIST_H
#define LIB_LIST_H

#include <stdbool.h>
#include <stddef.h>

#ifndef container_of
/* The typeof check makes passing the wrong member a compile error. */
#define container_of(ptr, type, member) ({				\
	const __typeof__(((type *)0)->member) *__mptr = (ptr);		\
	(type *)((char *)__mptr - offsetof(type, member)); })
#endif

struct list_node {
	struct list_node *next;
	struct list_node *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }

static inline void list_init(struct list_node *head)
{
	head->next = head;
	head->prev = head;
}

static inline void list_insert_between(struct list_node *node,
				       struct list_node *prev,
				       struct list_node *next)
{
	node->prev = prev;
	node->next = next;
	prev->next = node;
	next->prev = node;
}

/* Insert @node right after @head (stack order). */
static inline void list_add(struct list_node *node, struct list_node *head)
{
	list_insert_between(node, head, head->next);
}

/* Insert @node right before @head, i.e. at the end (queue order). */
static inline void list_add_tail(struct list_node *node, struct list_node *head)
{
	list_insert_between(node, head->prev, head);
}

/*
 * Unlink @node and leave it pointing to itself, so that list_empty() is true
 * for it and a second list_del() is harmless.
 */
static inline void list_del(struct list_node *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	list_init(node);
}

static inline bool list_empty(const struct list_node *head)
{
	return head->next == head;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)

#define list_first_entry(head, type, member) \
	list_entry((head)->next, type, member)

#define list_next_entry(pos, member) \
	list_entry((pos)->member.next, __typeof__(*(pos)), member)

#define list_for_each_entry(pos, head, member)				\
	for (pos = list_first_entry(head, __typeof__(*pos), member);	\
	     &pos->member != (head);					\
	     pos = list_next_entry(pos, member))

/* Like list_for_each_entry, but @pos may be deleted inside the loop. */
#define list_for_each_entry_safe(pos, n, head, member)			\
	for (pos = list_first_entry(head, __typeof__(*pos), member),	\
	     n = list_next_entry(pos, member);				\
	     &pos->member != (head);					\
	     pos = n, n = list_next_entry(n, member))

#endif

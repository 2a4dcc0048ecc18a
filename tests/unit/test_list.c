/*
 * Intrusive list: order of add/add_tail, deletion (also inside the safe
 * iterator), emptiness, and container_of.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lib/list.h>

struct item {
	int value;
	struct list_node node;
};

static void collect(struct list_node *head, int *out, int *n)
{
	struct item *it;

	*n = 0;
	list_for_each_entry(it, head, node)
		out[(*n)++] = it->value;
}

static void test_empty_init(void **state)
{
	struct list_node head = LIST_HEAD_INIT(head);
	struct list_node other;

	(void)state;
	assert_true(list_empty(&head));
	assert_ptr_equal(head.next, &head);
	assert_ptr_equal(head.prev, &head);
	list_init(&other);
	assert_true(list_empty(&other));
}

static void test_add_order(void **state)
{
	struct list_node head = LIST_HEAD_INIT(head);
	struct item items[4] = { { .value = 0 }, { .value = 1 },
				 { .value = 2 }, { .value = 3 } };
	int got[4], n;

	(void)state;
	list_add_tail(&items[1].node, &head);
	list_add_tail(&items[2].node, &head);
	list_add(&items[0].node, &head);
	list_add_tail(&items[3].node, &head);
	assert_false(list_empty(&head));
	collect(&head, got, &n);
	assert_int_equal(n, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(got[i], i);
	/* Backward links agree with forward ones. */
	assert_ptr_equal(head.prev, &items[3].node);
	assert_ptr_equal(items[0].node.prev, &head);
	assert_ptr_equal(items[2].node.prev, &items[1].node);
}

static void test_del(void **state)
{
	struct list_node head = LIST_HEAD_INIT(head);
	struct item items[3] = { { .value = 10 }, { .value = 11 },
				 { .value = 12 } };
	int got[3], n;

	(void)state;
	for (int i = 0; i < 3; i++)
		list_add_tail(&items[i].node, &head);
	list_del(&items[1].node);
	assert_true(list_empty(&items[1].node));
	/* A second delete of a detached node changes nothing. */
	list_del(&items[1].node);
	collect(&head, got, &n);
	assert_int_equal(n, 2);
	assert_int_equal(got[0], 10);
	assert_int_equal(got[1], 12);
	list_del(&items[0].node);
	list_del(&items[2].node);
	assert_true(list_empty(&head));
	collect(&head, got, &n);
	assert_int_equal(n, 0);
}

static void test_safe_iteration_deletes(void **state)
{
	struct list_node head = LIST_HEAD_INIT(head);
	struct item items[10], *it, *tmp;
	int got[10], n;

	(void)state;
	for (int i = 0; i < 10; i++) {
		items[i].value = i;
		list_add_tail(&items[i].node, &head);
	}
	/* Remove the odd ones while walking. */
	list_for_each_entry_safe(it, tmp, &head, node) {
		if (it->value % 2)
			list_del(&it->node);
	}
	collect(&head, got, &n);
	assert_int_equal(n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(got[i], 2 * i);
	list_for_each_entry_safe(it, tmp, &head, node)
		list_del(&it->node);
	assert_true(list_empty(&head));
}

static void test_container_of(void **state)
{
	struct item it = { .value = 7 };
	struct list_node *p = &it.node;

	(void)state;
	assert_ptr_equal(container_of(p, struct item, node), &it);
	assert_int_equal(list_entry(p, struct item, node)->value, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_init),
		cmocka_unit_test(test_add_order),
		cmocka_unit_test(test_del),
		cmocka_unit_test(test_safe_iteration_deletes),
		cmocka_unit_test(test_container_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for hearth_buf: the hard maximum (an append past it fails and leaves
 * the buffer as it was), formatted appends, and handing the content over. */
#include "hearth_buf.h"

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

Test(hearth_buf, starts_empty_and_reads_as_empty_string)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 16);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.max, 16);
    cr_assert_str_eq(hearth_buf_str(&b), "");
    hearth_buf_free(&b);
}

Test(hearth_buf, appends_up_to_exactly_the_maximum)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 10);
    cr_assert_eq(hearth_buf_add(&b, "01234", 5), HEARTH_OK);
    cr_assert_eq(hearth_buf_adds(&b, "56789"), HEARTH_OK);
    cr_assert_eq(b.len, 10);
    cr_assert_str_eq(hearth_buf_str(&b), "0123456789");
    hearth_buf_free(&b);
}

Test(hearth_buf, refuses_one_byte_past_the_maximum_and_keeps_content)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 10);
    cr_assert_eq(hearth_buf_adds(&b, "0123456789"), HEARTH_OK);
    cr_assert_eq(hearth_buf_add(&b, "x", 1), HEARTH_ERR_TOO_BIG);
    cr_assert_eq(b.len, 10);
    cr_assert_str_eq(hearth_buf_str(&b), "0123456789");
    /* An empty append still fits. */
    cr_assert_eq(hearth_buf_add(&b, "", 0), HEARTH_OK);
    cr_assert_eq(b.len, 10);
    hearth_buf_free(&b);
}

Test(hearth_buf, refuses_an_append_larger_than_the_room_left_as_a_whole)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 8);
    cr_assert_eq(hearth_buf_adds(&b, "abcde"), HEARTH_OK);
    cr_assert_eq(hearth_buf_adds(&b, "fghi"), HEARTH_ERR_TOO_BIG);
    cr_assert_eq(b.len, 5);
    cr_assert_str_eq(hearth_buf_str(&b), "abcde");
    cr_assert_eq(hearth_buf_adds(&b, "fgh"), HEARTH_OK);
    cr_assert_str_eq(hearth_buf_str(&b), "abcdefgh");
    hearth_buf_free(&b);
}

Test(hearth_buf, maximum_of_zero_holds_nothing)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 0);
    cr_assert_eq(hearth_buf_add(&b, "a", 1), HEARTH_ERR_TOO_BIG);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(hearth_buf_str(&b), "");
    hearth_buf_free(&b);
}

Test(hearth_buf, grows_byte_by_byte_to_a_large_maximum)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 5000);
    for (int i = 0; i < 5000; i++)
        cr_assert_eq(hearth_buf_add(&b, &"abcdefghij"[i % 10], 1), HEARTH_OK);
    cr_assert_eq(b.len, 5000);
    cr_assert_eq(b.data[5000], '\0');
    cr_assert_eq(b.data[4999], 'j');
    cr_assert_eq(b.data[1234], 'e');
    cr_assert_eq(hearth_buf_add(&b, "z", 1), HEARTH_ERR_TOO_BIG);
    /* The allocation never needs more than max + 1 bytes. */
    cr_assert_leq(b.cap, 5001);
    hearth_buf_free(&b);
}

/* Regression: with max == SIZE_MAX, max + 1 wraps to 0, and the growth
 * loop once spun for ever on the first append over 64 bytes. The timeout
 * turns a hang into a failure. */
Test(hearth_buf, largest_possible_maximum_still_grows, .timeout = 5)
{
    hearth_buf_t b;
    hearth_buf_init(&b, SIZE_MAX);
    char block[65];
    memset(block, 'q', sizeof block);
    cr_assert_eq(hearth_buf_add(&b, block, sizeof block), HEARTH_OK);
    cr_assert_eq(b.len, 65);
    hearth_buf_free(&b);
}

Test(hearth_buf, printf_appends_formatted_text)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 100);
    cr_assert_eq(hearth_buf_adds(&b, "rows="), HEARTH_OK);
    cr_assert_eq(hearth_buf_printf(&b, "%d, ward=%s, share=%.2f", 42, "Abbey", 0.125), HEARTH_OK);
    cr_assert_str_eq(hearth_buf_str(&b), "rows=42, ward=Abbey, share=0.12");
    cr_assert_eq(b.len, strlen("rows=42, ward=Abbey, share=0.12"));
    hearth_buf_free(&b);
}

Test(hearth_buf, printf_of_empty_text_gives_empty_string)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 4);
    cr_assert_eq(hearth_buf_printf(&b, "%s", ""), HEARTH_OK);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(hearth_buf_str(&b), "");
    hearth_buf_free(&b);
}

Test(hearth_buf, printf_past_the_maximum_fails_and_keeps_content)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 12);
    cr_assert_eq(hearth_buf_printf(&b, "%s", "hello "), HEARTH_OK);
    cr_assert_eq(hearth_buf_printf(&b, "%s-%d", "world", 12345), HEARTH_ERR_TOO_BIG);
    cr_assert_eq(b.len, 6);
    cr_assert_str_eq(hearth_buf_str(&b), "hello ");
    cr_assert_eq(hearth_buf_printf(&b, "%s", "world!"), HEARTH_OK);
    cr_assert_str_eq(hearth_buf_str(&b), "hello world!");
    hearth_buf_free(&b);
}

Test(hearth_buf, printf_grows_past_the_first_allocation)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 1000);
    char big[301];
    memset(big, 'x', 300);
    big[300] = '\0';
    cr_assert_eq(hearth_buf_printf(&b, "[%s]", big), HEARTH_OK);
    cr_assert_eq(b.len, 302);
    cr_assert_eq(b.data[0], '[');
    cr_assert_eq(b.data[301], ']');
    cr_assert_eq(b.data[302], '\0');
    hearth_buf_free(&b);
}

Test(hearth_buf, take_hands_over_content_and_empties_the_buffer)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 64);
    cr_assert_eq(hearth_buf_adds(&b, "trust.ae"), HEARTH_OK);
    char *s = hearth_buf_take(&b);
    cr_assert_str_eq(s, "trust.ae");
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, 0);
    cr_assert_eq(b.max, 64);
    cr_assert_str_eq(hearth_buf_str(&b), "");
    /* The buffer is usable again after a take. */
    cr_assert_eq(hearth_buf_adds(&b, "again"), HEARTH_OK);
    cr_assert_str_eq(hearth_buf_str(&b), "again");
    free(s);
    hearth_buf_free(&b);
}

Test(hearth_buf, take_of_an_empty_buffer_gives_a_freeable_empty_string)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 8);
    char *s = hearth_buf_take(&b);
    cr_assert_not_null(s);
    cr_assert_str_eq(s, "");
    free(s);
    hearth_buf_free(&b);
}

Test(hearth_buf, reset_empties_but_keeps_the_allocation)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 64);
    cr_assert_eq(hearth_buf_adds(&b, "something"), HEARTH_OK);
    char *data = b.data;
    size_t cap = b.cap;
    hearth_buf_reset(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.data, data);
    cr_assert_eq(b.cap, cap);
    cr_assert_str_eq(hearth_buf_str(&b), "");
    cr_assert_eq(hearth_buf_adds(&b, "x"), HEARTH_OK);
    cr_assert_str_eq(hearth_buf_str(&b), "x");
    hearth_buf_free(&b);
}

Test(hearth_buf, free_allows_the_buffer_to_be_used_again)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 64);
    cr_assert_eq(hearth_buf_adds(&b, "first"), HEARTH_OK);
    hearth_buf_free(&b);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    hearth_buf_free(&b);
    cr_assert_eq(hearth_buf_adds(&b, "second"), HEARTH_OK);
    cr_assert_str_eq(hearth_buf_str(&b), "second");
    hearth_buf_free(&b);
}

Test(hearth_buf, keeps_embedded_nul_bytes_in_binary_appends)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 16);
    cr_assert_eq(hearth_buf_add(&b, "a\0b", 3), HEARTH_OK);
    cr_assert_eq(b.len, 3);
    cr_assert_eq(memcmp(b.data, "a\0b\0", 4), 0);
    hearth_buf_free(&b);
}

/* Chat templates: the exact text each family's template renders, the
 * length protocol, and detection from tokenizer.chat_template / the
 * architecture. */
#include <stdlib.h>
#include <string.h>

#include "llm_fixture.h"
#include "zf_test.h"

static const zf_chat_msg k_conv[] = {
    {"system", "Be brief."},
    {"user", "Hi"},
    {"assistant", "Hello!"},
    {"user", "2+2?"},
};

static bool renders(zf_chat_template t, const zf_chat_msg *m, int n, bool gen, const char *want) {
    char buf[1024];
    size_t len = zf_chat_format(t, m, n, gen, buf, sizeof buf);
    if (len != strlen(want) || strcmp(buf, want) != 0) {
        fprintf(stderr, "template %s rendered:\n%s\n--- expected:\n%s\n", zf_chat_template_name(t), buf, want);
        return false;
    }
    return true;
}

static zf_chat_template detect(const char *arch, const char *tmpl) {
    fx_cfg c = fx_default(arch);
    c.chat_template = tmpl;
    if (strcmp(arch, "phi3") == 0) c.Hkv = c.H;
    zf_llm_model *m = fx_load(&c, false);
    zf_chat_template t = m ? zf_chat_template_detect(m) : (zf_chat_template)-1;
    zf_llm_free(m);
    return t;
}

int main(void) {
    CHECK(renders(ZF_CHAT_GEMMA, k_conv, 4, true,
                  "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
                  "<start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n"));
    CHECK(renders(ZF_CHAT_GEMMA, k_conv + 1, 1, false, "<start_of_turn>user\nHi<end_of_turn>\n"));
    /* Gemma and Llama 3 trim the texts, as llama.cpp's templates do (a reply ending in a newline) */
    const zf_chat_msg ws[] = {{"system", " Be brief.\n"}, {"user", "\t Hi \n"}, {"assistant", "Hello!\n\n"}};
    CHECK(renders(ZF_CHAT_GEMMA, ws, 3, false,
                  "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"));
    CHECK(renders(ZF_CHAT_LLAMA3, ws + 2, 1, false, "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"));
    CHECK(renders(ZF_CHAT_CHATML, k_conv, 4, true,
                  "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
                  "Hello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"));
    CHECK(renders(ZF_CHAT_LLAMA3, k_conv + 1, 1, true,
                  "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                  "<|start_header_id|>assistant<|end_header_id|>\n\n"));
    CHECK(renders(ZF_CHAT_PHI3, k_conv + 1, 2, true, "<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n<|assistant|>\n"));
    CHECK(renders(ZF_CHAT_MISTRAL, k_conv, 4, true, "[INST] Be brief.\n\nHi [/INST]Hello!</s>[INST] 2+2? [/INST]"));
    CHECK(renders(ZF_CHAT_NONE, k_conv + 1, 1, true, "user: Hi\nassistant:"));

    /* length protocol: a short buffer gets a NUL-terminated prefix and the full length */
    char small[8];
    size_t full = zf_chat_format(ZF_CHAT_CHATML, k_conv, 4, true, small, sizeof small);
    CHECK(full > sizeof small && strlen(small) == sizeof small - 1);
    CHECK(zf_chat_format(ZF_CHAT_CHATML, k_conv, 4, true, NULL, 0) == full);
    CHECK(zf_chat_format(ZF_CHAT_CHATML, NULL, 0, false, small, sizeof small) == 0 && small[0] == '\0');

    /* detection: the template string wins, then the architecture */
    CHECK(detect("llama", "{% for m in messages %}<|im_start|>{{ m.role }}...") == ZF_CHAT_CHATML);
    CHECK(detect("llama", "{{ '<start_of_turn>' + role }}") == ZF_CHAT_GEMMA);
    CHECK(detect("llama", "<|start_header_id|>{{ role }}<|end_header_id|>") == ZF_CHAT_LLAMA3);
    CHECK(detect("qwen2", "{{ '[INST] ' + content + ' [/INST]' }}") == ZF_CHAT_MISTRAL);
    CHECK(detect("gemma3", NULL) == ZF_CHAT_GEMMA);
    CHECK(detect("qwen3", NULL) == ZF_CHAT_CHATML);
    CHECK(detect("phi3", NULL) == ZF_CHAT_PHI3);
    /* a llama file with no template: ChatML when its vocabulary has <|im_start|> (the fixture's does) */
    CHECK(detect("llama", NULL) == ZF_CHAT_CHATML);
    CHECK(strcmp(zf_chat_template_name(ZF_CHAT_GEMMA), "gemma") == 0);

    /* the Gemma control tokens of a formatted prompt become single tokens */
    fx_cfg c = fx_default("gemma3");
    c.L = 6;
    zf_llm_model *m = fx_load(&c, false);
    CHECK(m != NULL);
    if (m) {
        char buf[256];
        zf_chat_format(ZF_CHAT_GEMMA, k_conv + 1, 1, true, buf, sizeof buf);
        int32_t ids[128];
        int64_t n = zf_llm_tokenize(m, buf, strlen(buf), true, ids, 128);
        /* BOS, <start_of_turn>, "user\n" (5 bytes), <start_of_turn> ... */
        CHECK(n > 3 && ids[0] == 1 && ids[1] == 259);
        CHECK(zf_llm_token_is_eog(m, 260));  /* <end_of_turn> */
        CHECK(zf_llm_token_is_eog(m, 2));    /* </s> */
        CHECK(!zf_llm_token_is_eog(m, 100));
        zf_llm_free(m);
    }
    ZF_TEST_MAIN_END();
}

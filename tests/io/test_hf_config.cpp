// config.json parsing (formats.md §2.2, §2.4): defaults, both spellings, refusals by name.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/hf_config.h"

namespace osp::io {
namespace {

using nlohmann::json;

json base() {
  return {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"vocab_size", 100},
          {"hidden_size", 64}, {"intermediate_size", 96}, {"num_hidden_layers", 2},
          {"num_attention_heads", 4}, {"rms_norm_eps", 1e-5}, {"rope_theta", 500000.0}};
}

std::string error_of(const json& j) {
  auto c = parse_hf_config(j.dump(), "config.json");
  return c ? std::string("accepted") : c.error().message;
}

TEST(HfConfig, ReadsFieldsAndDefaults) {
  auto c = parse_hf_config(base().dump(), "config.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->model.kv_heads, 4);  // defaults to H
  EXPECT_EQ(c->model.ffn, 96);
  EXPECT_EQ(c->model.context, 2048);
  EXPECT_DOUBLE_EQ(c->model.rope_theta, 500000.0);
  EXPECT_FALSE(c->model.tie);
  json j = base();
  j.erase("rope_theta");
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1234.0}};
  j["rope_theta"] = nullptr;  // some writers do this (§2.2)
  j["num_key_value_heads"] = 2;
  j["tie_word_embeddings"] = true;
  j["eos_token_id"] = {7, 8};
  c = parse_hf_config(j.dump(), "config.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_DOUBLE_EQ(c->model.rope_theta, 1234.0);
  EXPECT_EQ(c->model.kv_heads, 2);
  EXPECT_TRUE(c->model.tie);
  EXPECT_EQ(c->special.eos, 7);
  j.erase("rope_parameters");
  c = parse_hf_config(j.dump(), "config.json");
  ASSERT_TRUE(c);
  EXPECT_DOUBLE_EQ(c->model.rope_theta, 10000.0);
  EXPECT_FALSE(c->notices.empty());
}

TEST(HfConfig, WriterOutputReadsBack) {
  auto c = parse_hf_config(base().dump(), "config.json");
  ASSERT_TRUE(c);
  const auto out = hf_config_to_json(c->model, "bfloat16", {0, 0, std::nullopt});
  EXPECT_EQ(out.begin().key(), "architectures");  // the spec example's order
  EXPECT_EQ(out["torch_dtype"], out["dtype"]);
  EXPECT_EQ(out["rope_theta"], out["rope_parameters"]["rope_theta"]);
  auto again = parse_hf_config(out.dump(), "config.json");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(model::model_config_to_json(again->model), model::model_config_to_json(c->model));
  EXPECT_EQ(again->dtype, "bfloat16");
}

TEST(HfConfig, RefusesByName) {
  const std::vector<std::pair<std::function<void(json&)>, std::string>> cases = {
      {[](json& j) { j["model_type"] = "mistral"; }, "model_type \"mistral\""},
      {[](json& j) { j["architectures"] = {"LlamaForSequenceClassification"}; }, "LlamaForSequenceClassification"},
      {[](json& j) { j["hidden_act"] = "gelu"; }, "hidden_act \"gelu\""},
      {[](json& j) { j["attention_bias"] = true; }, "attention_bias"},
      {[](json& j) { j["mlp_bias"] = true; }, "mlp_bias"},
      {[](json& j) { j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}}; }, "rope_scaling"},
      {[](json& j) { j["rope_parameters"] = {{"rope_type", "yarn"}, {"rope_theta", 1.0}}; }, "\"yarn\""},
      {[](json& j) { j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1.0}}; }, "disagree"},
      {[](json& j) { j["head_dim"] = 32; }, "head_dim 32"},
      {[](json& j) { j["torch_dtype"] = "bfloat16"; j["dtype"] = "float32"; }, "disagree"},
      {[](json& j) { j.erase("hidden_size"); }, "\"hidden_size\" is missing"},
      {[](json& j) { j["vocab_size"] = -3; }, "vocab_size"},
      {[](json& j) { j["num_hidden_layers"] = 2.5; }, "must be an integer"},
      {[](json& j) { j["num_key_value_heads"] = 3; }, "kv_heads"},
      {[](json& j) { j["rms_norm_eps"] = 0; }, "rms_norm_eps"},
  };
  for (const auto& [mutate, expected] : cases) {
    json j = base();
    mutate(j);
    const std::string e = error_of(j);
    EXPECT_NE(e.find(expected), std::string::npos) << j.dump() << " -> " << e;
    EXPECT_EQ(e.rfind("config.json: ", 0), 0u) << e;
  }
  EXPECT_NE(parse_hf_config("{\"a\":", "config.json").error().message.find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace osp::io

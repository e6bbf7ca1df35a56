# frozen_string_literal: true
module HubriseClient
  VERSION = "2.0.15"
end

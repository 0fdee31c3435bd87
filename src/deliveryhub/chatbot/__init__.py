"""Customer-service chatbot: Korean-first NLU and VOC classification."""

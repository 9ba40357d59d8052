"""xdecimate.sw"""

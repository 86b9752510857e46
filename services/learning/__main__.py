from services.common.process import main
from services.learning.service import DEFINITION

if __name__ == "__main__":
    main(DEFINITION)
